"""SLA: each ticket's clocks against its queue's policy.

rules: the pure clocks (from a ticket's events: when each target is due, met, breached or excluded); services: the
SlaTarget rows kept with every ticket change (sla_refresh); counts: the daily counts the reports read; selectors: SLA
achievement; alerts: the beat's warnings and breaches; admin: the policies' admin.
"""
