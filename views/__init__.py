"""The report views' SQL (``views/*.sql``, package data) and the Cicero adapter they read."""
