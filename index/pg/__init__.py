"""The index kept in PostgreSQL with pgvector: the same storage seam as the local files."""
