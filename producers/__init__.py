"""Scheduled report producers: read the report views, enqueue into wa_outbox."""
