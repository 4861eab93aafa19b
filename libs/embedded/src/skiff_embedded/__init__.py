"""skiff_embedded: PostgreSQL and NATS (JetStream) run from their wheels as child processes."""

from skiff_embedded.nats import EmbeddedNats
from skiff_embedded.ports import distinct_free_ports, free_port
from skiff_embedded.postgres import EmbeddedPostgres

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "distinct_free_ports", "free_port"]
