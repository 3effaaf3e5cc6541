from fake_graph import FakeGraph
from wa_payloads import envelope
from tests.conftest import make_settings
def test_x():
    assert FakeGraph and envelope and make_settings
