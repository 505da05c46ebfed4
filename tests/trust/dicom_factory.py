"""Writes small DICOM files with pydicom for the trust tests and the fuzz bench (no real patient data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"


def write_dicom(
    path: Path,
    pixels: np.ndarray | bytes,
    photometric: str = "MONOCHROME2",
    rows: int | None = None,
    columns: int | None = None,
    frames: int = 1,
    samples_per_pixel: int | None = None,
    bits: int | None = None,
    signed: bool = False,
    transfer_syntax: str = ExplicitVRLittleEndian,
    encapsulated: bool = False,
    extra: dict[str, object] | None = None,
    preamble: bool = True,
) -> Path:
    """Write ``pixels`` ([rows, cols], [rows, cols, 3], [frames, rows, cols(, 3)] or raw bytes) as a DICOM file."""
    if isinstance(pixels, np.ndarray):
        array = pixels
        colour = array.shape[-1] == 3 and array.ndim == (4 if frames > 1 else 3)
        rows = array.shape[-3] if colour else array.shape[-2]
        columns = array.shape[-2] if colour else array.shape[-1]
        samples_per_pixel = samples_per_pixel or (3 if colour else 1)
        bits = bits or array.dtype.itemsize * 8
        data = array.tobytes()
    else:
        data = pixels
        assert rows and columns, "raw bytes need rows and columns"
        samples_per_pixel = samples_per_pixel or 1
        bits = bits or 8

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(US_MULTIFRAME_STORAGE if frames > 1 else US_IMAGE_STORAGE)
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = generate_uid()

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID or SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientName = "Synthetic^Test"
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = samples_per_pixel
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if samples_per_pixel == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value)
    if encapsulated:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([data])
        ds["PixelData"].VR = "OB"
    else:
        if len(data) % 2:
            data += b"\x00"
        ds.PixelData = data
        ds["PixelData"].VR = "OW" if bits > 8 else "OB"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=preamble)
    return path
