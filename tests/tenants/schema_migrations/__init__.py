"""Extra tenant migrations for tests/tenants/test_schemas.py, lent to the `messages` app
(a tenant app with no migrations of its own) through MIGRATION_MODULES."""
