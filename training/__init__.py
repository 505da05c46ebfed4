"""Training half: DenseNet121 on the BUSI folder layout, exported to a self-describing ONNX model."""
