"""fedhub_client: a fedhub participant in Python.

It downloads a model package over the hub's HTTP door (docs/http-api.md),
trains it with PyTorch exactly as the C++ participant's recipe says
(docs/models.md) and uploads the result as a contribution file.

Modules, one job each: ``xxh3`` (data_hash), ``framing`` (the frame),
``package`` (reading model packages), ``contribution`` (writing results),
``architecture`` and ``recipe`` (the JSON documents), ``torch_model`` (the
torch network and weight layouts), ``optimizers`` (Keras' Adam and SGD),
``training`` (one round), ``data`` (idx: and folder: sources),
``http_client`` and ``events`` (the HTTP door), ``cli`` (the command line).
"""

__version__ = "0.1.0"
