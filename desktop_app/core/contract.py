"""The ONNX model contract shared by training (which writes it) and the app (which reads it).

One definition of each name: training imports these constants when exporting, the app when loading.
"""

from __future__ import annotations

#: The single model input: float32 [N, H, W, 3], RGB pixel values 0..255, dynamic N.
INPUT_NAME = "image"

#: Calibrated softmax probabilities [N, C].
OUTPUT_PROBABILITIES = "probabilities"
#: Class activation maps [N, h, w, C] (logit contributions per location, before calibration).
OUTPUT_CAM = "cam"
#: Pooled backbone features [N, 1024] used for out-of-distribution checks.
OUTPUT_EMBEDDING = "embedding"
#: Optional lesion-mask probability [N, h, w, 1] from the auxiliary segmentation head.
OUTPUT_LESION_MASK = "lesion_mask"

REQUIRED_OUTPUTS = (OUTPUT_PROBABILITIES, OUTPUT_CAM, OUTPUT_EMBEDDING)

# metadata_props keys (values are strings; JSON where noted).
META_LABELS = "labels"  # JSON list of class names in output order
META_INPUT_SIZE = "input_size"  # JSON [H, W]
META_PREPROCESSING = "preprocessing"  # human-readable text
META_MODEL_VERSION = "model_version"
META_CREATED = "created"  # ISO-8601 UTC
META_TRAINING = "training"  # JSON: data counts, split, recipe, weights origin
META_METRICS = "metrics"  # JSON: held-out metrics
META_TEMPERATURE = "temperature"  # float as text
#: Optional JSON: the class-offset correction appended after the probabilities (see training.recalibrate).
META_CLASS_OFFSETS = "class_offsets"
#: Optional JSON: how probabilities become one answer (see desktop_app.core.decision); absent = highest probability.
META_DECISION = "decision"
META_PARITY = "parity_max_abs_diff"  # float as text: Keras vs onnxruntime on validation images
META_OOD = "ood"  # JSON: out-of-distribution statistics (see desktop_app.core.ood)
META_SHA256_NOTE = "card_sha256"  # not stored in the model: the sha256 lives in the card beside it

REQUIRED_METADATA = (
    META_LABELS,
    META_INPUT_SIZE,
    META_PREPROCESSING,
    META_MODEL_VERSION,
    META_CREATED,
    META_TRAINING,
    META_METRICS,
    META_TEMPERATURE,
)

#: ImageNet normalisation applied *inside* the model (DenseNet's "torch" mode).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

PREPROCESSING_TEXT = (
    "Image decoded to RGB uint8 (grey, palette, RGBA, 16-bit and EXIF orientation handled), whole image resized "
    "to HxW with Pillow bilinear (no crop), fed as float32 0..255; the model itself divides by 255 and applies "
    "ImageNet mean/std normalisation (layers.Rescaling)."
)
