"""Running the service: health states, the leader lease, metrics, logging, heap tuning, fault points,
the database outage log (``db_outage``)."""
