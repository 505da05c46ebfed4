"""Command line: ``python -m training {train,pretrain,evaluate,export,export-backbone,recalibrate,card}``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import fields
from pathlib import Path

from training.config import ConfigError, TrainConfig

_HELP = {
    "masks": "lesion-mask root laid out as <masks>/<class>/<stem>_mask*.png (default: masks beside the images)",
    "groups": "precomputed grouping: CSV/TSV with path,group, or a DUPLICATES.tsv",
    "extra_data": "extra BUS-BRA-style data set root joined to training (split by patient); repeatable",
    "hold_out_device": ("leave-one-scanner-out: every patient of the extra data with an image from a device whose "
                        "name contains this text goes to the extra test set, none to training; repeatable"),
    "image_size": "square input size in pixels",
    "seed": "seed of weight initialisation, augmentation and shuffling (and of the split, unless --split-seed)",
    "split_seed": ("seed of the BUSI and extra-data splits when it should differ from --seed (same split, another "
                   "initialisation: seed-to-seed variance); -1 = --seed"),
    "split_order": ("how the group-aware split places each class's groups: size = largest first (the split of "
                    "record; training takes the largest groups, so validation and test hold the smallest: in BUSI "
                    "only images without a near-duplicate) or shuffled = in random order (any group can be held "
                    "out)"),
    "weights": "backbone start: imagenet (Keras download, md5-checked), none (random init) or a weights FILE",
    "train_batchnorm": ("with --weights FILE: BatchNorm layers keep learning batch statistics (for the project's "
                        "own pretraining) instead of running frozen in inference mode (for ImageNet weights)"),
    "frozen_epochs": "stage 1 epochs with the backbone frozen (head only)",
    "epochs": "stage 2 (fine-tune) epochs",
    "unfreeze": "stage 2 trainable backbone part: all, or 1..4 top dense blocks",
    "augment": "augmentation strength multiplier (0 disables)",
    "optimizer": ("adamw = AdamW, or sgd = SGD with Nesterov momentum 0.9 (the DenseNet paper's optimizer); both "
                  "on the same cosine schedule peaking at --learning-rate, with Keras' decoupled weight decay (each "
                  "step shrinks the weights by --weight-decay times the current rate, which for SGD is an L2 "
                  "penalty of that coefficient)"),
    "extra_val_fraction": ("share of the --extra-data training patients (0.1: a tenth, chosen by patient and class) "
                           "kept out of training to fit the calibration beside --data's validation images, so the "
                           "temperature and class offsets also see the other scanners; its test patients are "
                           "unchanged; 0 (default): calibration on --data's validation images only"),
    "primary_weight": ("loss weight of each --data training image relative to an --extra-data image (2: BUSI "
                       "counts as if drawn twice as often); class weights are balanced over the weighted counts"),
    "mixup": ("mixup: blend each training image with another of its batch by a weight drawn from Beta(a, a) "
              "(kept >= 0.5), and its labels, lesion mask and class weight likewise; 0 disables"),
    "cutmix": ("CutMix: paste a square of another image of the batch covering 1 - w of each training image, w drawn "
               "from Beta(a, a) (kept >= 0.5), with the same square of its lesion mask, and blend labels and class "
               "weights by the pixels kept; 0 disables; not with --mixup"),
    "lesion_crops": ("share of training draws that take one of the image's two zoomed crops, cut once per run from "
                     "the full-resolution image: a window around the whole lesion keeps its class and mask, a "
                     "window clear of the lesion is labelled normal with an empty mask (normal images: two "
                     "windows); class weights are balanced over the classes as drawn; 0 disables "
                     "(training/lesion_crops.py)"),
    "seg_head": "auxiliary lesion-mask head trained with the masks (multi-task)",
    "mask_pooling": ("lesion-guided pooling (needs --seg-head): the classifier sees the mean of the /32 features and "
                     "the mean of the same features weighted by the predicted lesion mask (no gradient into the "
                     "mask), so the lesion's own features count apart from the rest of the frame; the CAM stays "
                     "exact"),
    "flip_tta": "average over a horizontal flip inside the exported graph",
    "mixed_precision": ("train in mixed bfloat16 where the hardware has it natively (AVX-512 BF16 / AMX CPU, or a GPU "
                        "of compute capability 8.0+; 1.3x faster per step on such a CPU); elsewhere float32, since "
                        "emulated bfloat16 is several times slower; the export is float32 either way"),
    "fast_cpu_kernels": ("on a CPU-only machine, train with faster kernels computing the same arithmetic (custom "
                         "convolution gradients, fused BatchNorm; about 25 %% less time per fine-tune step on a "
                         "2-core AVX2 CPU); --no-fast-cpu-kernels trains with Keras' own layer code"),
    "patience": "early stopping: epochs without validation macro-F1 improvement (0 = never)",
    "average_last_epochs": ("0 keeps the epoch with the best validation macro-F1; N > 0 keeps the mean of the "
                            "weights after each of the last N planned fine-tune epochs (tail averaging)"),
    "swa_learning_rate": ("stochastic weight averaging's constant rate: the cosine schedule reaches this fraction "
                          "of the peak learning rate where the --average-last-epochs window begins and stays there "
                          "through the window, so the averaged epochs' weights differ more (pair it with "
                          "--recompute-batchnorm); 0 decays to 1 %% at the end"),
    "recompute_batchnorm": ("after training, re-estimate every BatchNorm layer's moving mean and variance for the "
                            "kept weights: the mean of its batch statistics over the un-augmented training images "
                            "in a fixed shuffled order (the last step of stochastic weight averaging: a tail "
                            "average's statistics are otherwise the mean of other weights' statistics)"),
    "progressive_size": ("progressive resizing: train the first --progressive-epochs fine-tune epochs on the "
                         "training images downscaled to this size, the rest at --image-size (one optimizer, one "
                         "learning-rate schedule); 0 disables"),
    "progressive_epochs": "fine-tune epochs at --progressive-size (see there)",
    "freeze_schedule": ("progressive freezing, EPOCH:BLOCKS[,EPOCH:BLOCKS...] (e.g. 9:3,13:2): from fine-tune epoch "
                        "EPOCH on only the top BLOCKS of DenseNet's 4 dense blocks train; the layers below, stem "
                        "included, keep their weights and run BatchNorm in inference mode, and need no backward "
                        "pass (a step with the top 3 / top 2 blocks trainable took 0.63x / 0.42x the time of a full "
                        "one on a 2-core CPU); empty disables"),
    "offset_classes": ("comma-separated classes whose logit gets an offset <= 0 fitted with a second temperature on "
                       "validation NLL and appended to the exported graph, to undo the over-prediction that class "
                       "weights cause (see training/recalibrate.py); empty disables"),
    "max_images_per_class": "cap per class, for quick experiments (0 = all)",
    "verbose": "Keras progress: 1 = progress bar, 2 = one line per epoch",
}


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig(data="", out="")
    for field in fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        help_text = _HELP.get(field.name, "") + (f" (default: {default})" if default not in ("", None) else "")
        if field.name in ("data", "out"):
            parser.add_argument(flag, required=True, help="dataset root <root>/<class>/*.png" if field.name == "data"
                                else "run folder (created)")
        elif isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        elif isinstance(default, list):
            parser.add_argument(flag, action="append", default=[], help=help_text)
        else:
            kind = type(default) if default is not None else str
            parser.add_argument(flag, type=kind, default=default, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, every subcommand included (no TensorFlow imported)."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help="train DenseNet121 and export runs/NAME/model.onnx")
    _add_config_arguments(train_parser)
    pretrain_parser = commands.add_parser(
        "pretrain", help="self-supervised masked-image pretraining of the backbone on the training split's images; "
        "writes OUT/backbone.weights.h5 for `train --weights`")
    _add_config_arguments(pretrain_parser)
    pretrain_parser.add_argument("--patch-size", type=int, default=16, help="hidden square size in pixels (default 16)")
    pretrain_parser.add_argument("--mask-ratio", type=float, default=0.5, help="share of squares hidden (default 0.5)")
    evaluate_parser = commands.add_parser("evaluate", help="score any contract ONNX model through onnxruntime")
    evaluate_parser.add_argument("--model", required=True, type=Path)
    evaluate_parser.add_argument("--data", required=True, type=Path)
    evaluate_parser.add_argument("--masks", type=Path, default=None)
    evaluate_parser.add_argument("--split", type=Path, default=None, help="split.csv of a run: score one subset")
    evaluate_parser.add_argument("--subset", default="test", choices=("train", "val", "test"))
    evaluate_parser.add_argument("--out", type=Path, default=None, help="write the metrics JSON here too")
    export_parser = commands.add_parser("export", help="(re-)export a run's checkpoint to ONNX")
    export_parser.add_argument("--checkpoint", required=True, type=Path, help="runs/NAME/checkpoint.weights.h5")
    export_parser.add_argument("--out", required=True, type=Path,
                               help="model path; in another folder, the report, split and config go there too")
    export_parser.add_argument("--recompute-batchnorm", action="store_true",
                               help=_HELP["recompute_batchnorm"] + " (as `train --recompute-batchnorm`)")
    backbone_parser = commands.add_parser(
        "export-backbone", help="save a run's backbone as a --weights FILE (pretraining for another run)")
    backbone_parser.add_argument("--checkpoint", required=True, type=Path)
    backbone_parser.add_argument("--out", required=True, type=Path, help="NAME.weights.h5")
    recalibrate_parser = commands.add_parser(
        "recalibrate", help="append validation-fitted class offsets to an exported model (no checkpoint needed)")
    from training.recalibrate import add_arguments as add_recalibrate_arguments

    add_recalibrate_arguments(recalibrate_parser)
    decide_parser = commands.add_parser(
        "decide", help="store a cost-weighted decision rule in an exported model and restate its metrics")
    from training.decide import add_arguments as add_decide_arguments

    add_decide_arguments(decide_parser)
    card_parser = commands.add_parser("card", help="write MODEL_CARD.md from an exported model's metadata")
    card_parser.add_argument("--model", required=True, type=Path)
    card_parser.add_argument("--command", required=True, dest="reproduce", help="the command that reproduces it")
    card_parser.add_argument("--notes", default="", help="markdown appended under 'Notes'")
    card_parser.add_argument("--out", required=True, type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)

    from training.data import DatasetError

    try:
        if args.command in ("train", "pretrain"):
            config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
            if args.command == "train":
                from training.train import train

                train(config)
            else:
                from training.pretrain import pretrain

                pretrain(config, patch=args.patch_size, mask_ratio=args.mask_ratio)
        elif args.command == "evaluate":
            from training.evaluate import evaluate

            metrics = evaluate(args.model, args.data, args.split, args.subset, args.masks)
            text = json.dumps(metrics, indent=2)
            print(text)
            if args.out:
                args.out.write_text(text + "\n")
        elif args.command == "export-backbone":
            from training.export import export_backbone

            export_backbone(args.checkpoint, args.out)
        elif args.command == "recalibrate":
            from training.recalibrate import run as recalibrate

            return recalibrate(args)
        elif args.command == "decide":
            from training.decide import run as decide

            return decide(args)
        elif args.command == "card":
            from training.card import render_card

            args.out.write_text(render_card(args.model, args.reproduce, args.notes), encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            from training.export import export_checkpoint

            export_checkpoint(args.checkpoint, args.out, recompute_batchnorm=args.recompute_batchnorm)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from desktop_app.core.decision import DecisionRuleError
        from desktop_app.core.inference import ModelError
        from training.model import ImageSizeError, WeightsError
        from training.recalibrate import RecalibrationError

        if isinstance(error, (WeightsError, ModelError, ImageSizeError, ConfigError, RecalibrationError,
                              DecisionRuleError)):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
