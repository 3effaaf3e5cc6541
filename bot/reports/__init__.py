"""Reports: SLA and workload figures over a period, rendered as text or CSV (``threadline report``)."""
