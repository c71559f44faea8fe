import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_cache(tmp_path_factory):
    """Split caches go to a temporary folder, never to the user's cache."""
    os.environ["FWLIB_DATA_DIR"] = str(tmp_path_factory.mktemp("data_cache"))
