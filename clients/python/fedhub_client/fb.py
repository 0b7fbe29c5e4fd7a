"""The FlatBuffers code generated from messages/schemas/*.fbs (package ``fedhub.fb``).

It is generated at build time by ``flatc --python`` (CMake's ``python_client``
target, or ``pip install clients/python``) and never committed; this module
imports the parts the client uses and says how to get them when they are
missing.
"""

try:
    from fedhub.fb import (  # noqa: F401  (re-exported)
        Contribution,
        DType,
        Metric,
        ModelPackage,
        ModelSpec,
        ModelVersion,
        Tensor,
    )
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        "fedhub_client: the generated FlatBuffers code (package fedhub.fb) is missing: "
        "install with `pip install clients/python`, or build the CMake target python_client and put "
        "build/clients/python/generated on PYTHONPATH"
    ) from e

__all__ = ["Contribution", "DType", "Metric", "ModelPackage", "ModelSpec", "ModelVersion", "Tensor",
           "PACKAGE_IDENTIFIER", "CONTRIBUTION_IDENTIFIER"]

PACKAGE_IDENTIFIER = b"FHMP"
CONTRIBUTION_IDENTIFIER = b"FHCT"
