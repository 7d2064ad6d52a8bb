"""Embedding: the :class:`~index.embed.embedder.Embedder` protocol, model folder checks and the backends.

:mod:`~index.embed.embedder` (protocol, torch backend, :func:`~index.embed.embedder.load_embedder`),
:mod:`~index.embed.onnx_backend` (ONNX Runtime, fp32 and int8), :mod:`~index.embed.model_files`
(the bundled model, offline loading, weight fingerprints).
"""
