"""The REST layer: serializers validate input shape, views call one service."""
