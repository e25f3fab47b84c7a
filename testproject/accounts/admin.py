from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from trench_mfa.admin.users import MFAUserAdminMixin

from .models import User


@admin.register(User)
class AccountsUserAdmin(MFAUserAdminMixin, UserAdmin):
    fieldsets = (*(UserAdmin.fieldsets or ()), ("MFA", {"fields": ("phone_number",)}))
    list_display = ("username", "email", "phone_number", "is_staff")
