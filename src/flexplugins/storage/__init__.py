"""Storage: SQLAlchemy Core tables, the database handle, and the queries of each resource."""
