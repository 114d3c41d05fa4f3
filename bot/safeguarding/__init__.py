"""DSL escalations: one owner opens them, suggests a route, alerts, and keeps the evidence."""
