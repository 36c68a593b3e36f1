"""The local stand-ins for the images an engine that cannot pull has no other way to get
(deploy/local, tests/support_docker.py): each image the compose file names by a variable but
Grafana's has one, built on the local base, and the PostgreSQL entrypoint is valid sh. The images
themselves are built and run by make compose-test and make test-docker."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests import support_docker

pytestmark = pytest.mark.integration


def test_every_image_variable_of_the_compose_file_has_a_local_stand_in():
    compose = (support_docker.ROOT / "docker-compose.yml").read_text()
    variables = set(re.findall(r"\$\{(ARB_[A-Z_]+_IMAGE):-", compose))
    # Grafana has none: no Debian package, npm or PyPI distribution of its server (docs/deploy.md)
    assert variables - {"ARB_GRAFANA_IMAGE"} == {
        variable for variable, _, _ in support_docker.STAND_INS.values()
    }
    for name, (_, local, dockerfile) in support_docker.STAND_INS.items():
        text = (support_docker.LOCAL / dockerfile).read_text()
        assert "FROM ${BASE_IMAGE}" in text, dockerfile
        assert local in text, f"{dockerfile} does not say how to build {local}"
        assert support_docker.public_image(name), name


@pytest.mark.skipif(not shutil.which("sh"), reason="no sh")
def test_the_postgres_entrypoint_parses():
    script = support_docker.LOCAL / "postgres-entrypoint.sh"
    out = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
