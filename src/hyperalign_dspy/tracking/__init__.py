"""MLflow beyond the local file: a shared tracking server on PostgreSQL, and compiled programs as
servable MLflow models."""
