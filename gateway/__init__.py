"""WhatsApp gateway: claims wa_outbox rows and sends them with neonize."""
