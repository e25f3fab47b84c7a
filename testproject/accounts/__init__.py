"""Demo accounts app: a custom user model with a phone number."""
