"""The redis+cluster:// URL form: seeds, credentials, TLS, and the errors a bad one gets."""

from __future__ import annotations

import pytest
from arb_runtime.errors import ConfigError
from arb_runtime.redis import cluster_client, connect, is_cluster_url


def test_cluster_url_lists_every_seed_with_credentials() -> None:
    client = cluster_client("redis+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001")
    seeds = [(n.host, n.port) for n in client.nodes_manager.startup_nodes.values()]
    assert sorted(seeds) == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    kwargs = client.nodes_manager.connection_kwargs
    assert kwargs["username"] == "u" and kwargs["password"] == "p@ss"


def test_only_the_cluster_schemes_select_the_cluster_client() -> None:
    assert is_cluster_url("redis+cluster://h:1") and is_cluster_url("REDISS+CLUSTER://h:1")
    assert not is_cluster_url("redis://h:1/0")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+cluster://h1:7000,h2", "is not host:port"),
        ("redis+cluster://h1:7000/3", "database 0 only"),
    ],
)
async def test_a_bad_cluster_url_is_one_config_error_with_the_fix(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        await connect(url, ping=False)
    assert says in str(caught.value) and "redis+cluster://host:port,host:port" in str(caught.value)
