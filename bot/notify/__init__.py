"""Messages to people: the outbox (written with their cause, sent by a job), email, signed links."""
