"""Settings for the test suite: production settings with a fast password hasher (hashing
cost is not what the tests check, and Argon2 would dominate their run time)."""

import base64
import hashlib
import os

os.environ.setdefault("MINSHENG_TESTING", "true")
# Fixed personal-data keys (test-only values), so no key file is written into a data folder.
os.environ.setdefault("MINSHENG_DATA_KEYS", "test1:" + base64.urlsafe_b64encode(hashlib.sha256(b"minsheng test data key").digest()).decode())
os.environ.setdefault("MINSHENG_INDEX_KEY", base64.urlsafe_b64encode(hashlib.sha256(b"minsheng test index key").digest()).decode())

from .settings import *  # noqa: E402,F401,F403
from .settings import PASSWORD_HASHERS as _PRODUCTION_HASHERS  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *_PRODUCTION_HASHERS]
PRODUCTION_PASSWORD_HASHERS = _PRODUCTION_HASHERS

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not the in-memory default: threads in the concurrency tests then share the
    # database the way processes do in production, with SQLite's busy timeout instead of
    # shared-cache table-lock errors.
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"minsheng-test-{os.getpid()}.sqlite3")}  # noqa: F405

if REDIS_URL:  # noqa: F405
    # Each run gets its own keys, so rate-limit counters never leak between runs.
    CACHES["default"]["KEY_PREFIX"] = f"minsheng-test-{os.getpid()}"  # noqa: F405

# A read replica that mirrors the test database, for the router's tests (the router itself is
# only switched on by those tests, as DATABASE_REPLICA_URL switches it on in production).
if "replica" not in DATABASES:  # noqa: F405
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
    if DATABASES["replica"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
        # Read-only use: no journal-mode pragma (it needs a lock the primary's test
        # transaction holds) and no IMMEDIATE transactions.
        DATABASES["replica"]["OPTIONS"] = {"timeout": 20}  # noqa: F405
