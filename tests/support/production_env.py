"""The documented production environment (docs/configuration.md), with throwaway values."""

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x7Kp2vQ9mR4tW8zB1nC6yH3jL5sD0fG7aE2uI9oP4qX8wV1bN6mZ3kT5rY0hJ2cF",
    "ALLOWED_HOSTS": "app.example.com",
    "WS_INTEGRATION_HOST": "app.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
    "SESSION_COOKIE_DOMAIN": ".example.com",
    "DATABASE_URL": "postgres://app@db.example.internal:5432/app",
    "AWS_GATEWAY_REGION_NAME": "eu-west-1",
    "WS_GATEWAY_SECRET": "Zq3Vn8Lx1Rt6Yb0Mc5Kw2Hs7Pf4Gd9Ja",
    "WS_PUBLIC_URL": "wss://ws.example.com/production",
    "TRUSTED_PROXY_HOPS": "2",
}
