import pytest

from motif.config import Config, ConfigError


def test_defaults_follow_the_contract():
    c = Config.from_env({})
    assert (c.port, c.host, c.kind) == (8080, "0.0.0.0", "http")
    assert (c.timeout, c.concurrency, c.queue) == (60.0, 0, 0)
    assert (c.max_body, c.drain, c.name, c.json_logs) == (6 * 1024 * 1024, 30.0, "function", False)


def test_knative_names_are_read_but_not_required():
    c = Config.from_env({"K_SERVICE": "hello", "K_REVISION": "hello-00001"})
    assert (c.name, c.k_revision, c.k_configuration) == ("hello", "hello-00001", None)
    assert Config.from_env({"K_SERVICE": "hello", "MOTIF_FUNCTION_NAME": "mine"}).name == "mine"


def test_the_queue_defaults_to_ten_per_slot():
    assert Config.from_env({"MOTIF_CONCURRENCY": "4"}).queue == 40
    assert Config.from_env({"MOTIF_CONCURRENCY": "4", "MOTIF_QUEUE": "0"}).queue == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOTIF_TIMEOUT", "soon"),
        ("MOTIF_TIMEOUT", "0"),
        ("PORT", "70000"),
        ("PORT", "-1"),
        ("MOTIF_FUNCTION_KIND", "grpc"),
        ("MOTIF_HOST", "localhost"),
        ("MOTIF_MAX_BODY", "1e6"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError) as e:
        Config.from_env({name: value})
    assert e.value.name == name
    assert f"{name}=`{value}` is not valid" in str(e.value)
