"""Personnel complaints: parse inbound WhatsApp messages, queue them, compose standard answers.

- :mod:`producers.complaints.parser` turns a message text into a :class:`ParsedComplaint`
  (pure, no database).
- :mod:`producers.complaints.intake` is the ``complaint_intake`` producer job: it claims new
  ``wa_inbox`` rows and turns complaints into ``complaint_queue`` rows.
- :mod:`producers.complaints.answer` composes the standard answer for a queued complaint from
  the database (used by the ``complaint_response`` job).
"""
