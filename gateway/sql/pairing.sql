-- The pairing QR code of a session (gateway/pairing.py).

-- name: store_qr
UPDATE wa_session
   SET pairing_qr = %(code)s::text, pairing_qr_at = now()
 WHERE name = %(session)s::text

-- name: clear_qr
-- Only touches a row that holds a code, so a connected session's updates stay no-ops.
UPDATE wa_session
   SET pairing_qr = NULL, pairing_qr_at = NULL
 WHERE name = %(session)s::text AND pairing_qr IS NOT NULL
