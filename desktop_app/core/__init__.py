"""Qt-free core of the app: image loading, preprocessing, inference, heatmaps, model card.

Nothing in this package may import Qt (enforced by import-linter, see pyproject.toml) or TensorFlow,
so the CLI, the tests and the training code can use it headless.
"""
