-- The pairing QR code of a gateway session, for the status page (python -m outbox web).
-- The gateway writes the QR string whenever neonize issues one and clears it when the pairing
-- succeeds or the session connects; the page draws it (segno) while the session is pairing.

ALTER TABLE wa_session
    ADD COLUMN pairing_qr    text,
    ADD COLUMN pairing_qr_at timestamptz;
COMMENT ON COLUMN wa_session.pairing_qr IS
    'The last pairing QR string neonize issued (NULL once paired); drawn by the status page.';
COMMENT ON COLUMN wa_session.pairing_qr_at IS
    'When pairing_qr was issued (WhatsApp rotates the code every 20 to 60 seconds).';
