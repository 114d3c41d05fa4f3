"""The 24-hour clock: working-day deadlines, the duty rota and leave, reminders and digests."""
