"""Ingestion: fetch Instagram and TikTok posts, likes and comments from RapidAPI into Cicero's
tables (the job ``ingestion``). See docs/concepts/ingestion.md."""
