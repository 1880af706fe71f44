"""The exception that fails a test: the NixOS test driver's own, when there is one.

nixpkgs' driver (25.05 and newer) prints a ``test_driver.errors.RequestedAssertionFailed`` as a
``!!!`` line with only the testScript's frames, and any other exception as a full traceback
through our frames. So a failed test raises the driver's type when it can be imported, and a
plain ``AssertionError`` elsewhere (older drivers, the runtime tier, unit tests). The driver's
type is not an ``AssertionError``: whatever catches a failed test catches
:func:`assertion_failures`.
"""

import importlib

DRIVER_ERRORS = "test_driver.errors"
DRIVER_ASSERTION = "RequestedAssertionFailed"


def driver_assertion() -> type[Exception] | None:
    """The driver's ``RequestedAssertionFailed``, None outside a driver that has it."""
    try:
        module = importlib.import_module(DRIVER_ERRORS)
    except ImportError:
        return None
    found = getattr(module, DRIVER_ASSERTION, None)
    return found if isinstance(found, type) and issubclass(found, Exception) else None


def assertion_failure(message: str) -> Exception:
    """The exception to raise for a failed test (see the module doc)."""
    kind = driver_assertion()
    return AssertionError(message) if kind is None else kind(message)


def assertion_failures() -> tuple[type[Exception], ...]:
    """Every type :func:`assertion_failure` can raise here: ``except assertion_failures():``."""
    kind = driver_assertion()
    return (AssertionError,) if kind is None else (AssertionError, kind)
