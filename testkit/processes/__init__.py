"""Real processes for the crash, outage and load tests: ``threadline run`` instances, HAProxy, a PostgreSQL
cluster that can be stopped, the platforms posting webhooks, and reading what the instances stored."""
