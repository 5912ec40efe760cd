"""Tests that `make test-citus` runs differently: FIELDSALES_CITUS=1 is set by
scripts/test_citus.sh. A test skipped there must name what it needs of a single node."""
import os

import pytest

ON_CITUS = os.environ.get("FIELDSALES_CITUS") == "1"


def single_node(reason: str):
    """Skip the test on Citus: it exercises the single-node cluster itself (`reason`)."""
    return pytest.mark.skipif(ON_CITUS, reason=f"single-node cluster only: {reason}")
