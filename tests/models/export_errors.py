"""`crowdrt export` on bad input: each kind must fail with exit code 1 (2 for usage errors) and one line on stderr
that says what is wrong, write no output file and leave the work folder untouched.
usage: /usr/bin/python3 tests/models/export_errors.py CROWDRT WORK_DIR KIND      (--list: the kinds)"""
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from common import TestFailure, expect_error, expect_ok, fresh_dir, main_guard  # noqa: E402

KINDS = ["missing_and_unexpected_keys", "wrong_encoder", "wrong_in_channels", "size_not_multiple_of_32",
         "legacy_checkpoint", "malicious_checkpoint", "existing_output", "bad_opset", "not_smp"]


def resnet_state_dict(encoder="resnet18", channels=3):
    import torch
    from smp_efficientnet import Model
    torch.manual_seed(0)
    return Model("UNet", encoder, channels).state_dict()


def save(obj, path, **kw):
    import torch
    torch.save(obj, path, **kw)
    return path


def test(crowdrt, work, kind):
    work = fresh_dir(work)
    out = os.path.join(work, "model.onnx")
    base = [crowdrt, "export", "-o", out]
    if kind == "missing_and_unexpected_keys":
        sd = resnet_state_dict()
        del sd["encoder.layer2.0.conv1.weight"], sd["decoder.blocks.1.conv2.1.running_var"]
        sd["decoder.blocks.9.conv1.0.weight"] = sd["segmentation_head.0.bias"].clone()
        ckpt = save(sd, os.path.join(work, "ckpt.pth"))
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64"], absent=[out], watch=[work],
                     mentions=["2 missing keys", "encoder.layer2.0.conv1.weight", "decoder.blocks.1.conv2.1.running_var",
                               "1 unexpected keys: decoder.blocks.9.conv1.0.weight"])
    elif kind == "wrong_encoder":
        ckpt = save(resnet_state_dict("resnet34"), os.path.join(work, "ckpt.pth"))
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64", "--encoder", "resnet18"], absent=[out],
                     watch=[work], mentions=["unexpected keys", "encoder.layer1.2.", "--encoder resnet34"])
    elif kind == "wrong_in_channels":
        ckpt = save(resnet_state_dict("resnet18", 5), os.path.join(work, "ckpt.pth"))
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64", "--in-channels", "3"], absent=[out],
                     watch=[work], mentions=["encoder.conv1.weight: checkpoint 64x5x7x7, model 64x3x7x7",
                                             "--in-channels 5"])
    elif kind == "size_not_multiple_of_32":
        ckpt = save(resnet_state_dict(), os.path.join(work, "ckpt.pth"))
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "100"], codes=(2,), absent=[out], watch=[work],
                     mentions=["100x100", "multiple of 32", "128x128"])
        # the same checkpoint at a valid size works, so the error above was about the size only
        expect_ok(base + ["--checkpoint", ckpt, "--input-size", "64x96"])
    elif kind == "legacy_checkpoint":
        ckpt = save(resnet_state_dict(), os.path.join(work, "legacy.pth"), _use_new_zipfile_serialization=False)
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64"], absent=[out], watch=[work],
                     mentions=["legacy.pth"])
    elif kind == "malicious_checkpoint":
        ckpt = os.path.join(work, "evil.pth")
        marker = os.path.join(work, "pwned")
        with zipfile.ZipFile(ckpt, "w") as z:  # torch.save's layout, with a pickle that calls os.system
            z.writestr("archive/data.pkl", b"cos\nsystem\n(S'touch " + marker.encode() + b"'\ntR.")
            z.writestr("archive/version", b"3\n")
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64"], absent=[out, marker], watch=[work],
                     mentions=["evil.pth"])
    elif kind == "existing_output":
        ckpt = save(resnet_state_dict(), os.path.join(work, "ckpt.pth"))
        with open(out, "w") as fh:
            fh.write("keep me")
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64"], watch=[work],
                     mentions=["already exists", "--overwrite"])
        default = os.path.join(work, "ckpt.onnx")  # default output: the checkpoint path with .onnx
        expect_ok([crowdrt, "export", "--checkpoint", ckpt, "--input-size", "64"])
        if not os.path.exists(default):
            raise TestFailure(f"export without -o did not write {default}")
        expect_ok(base + ["--checkpoint", ckpt, "--input-size", "64", "--overwrite"])
    elif kind == "bad_opset":
        ckpt = save(resnet_state_dict(), os.path.join(work, "ckpt.pth"))
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64", "--opset", "9"], codes=(2,), absent=[out],
                     watch=[work], mentions=["opset"])
    elif kind == "not_smp":
        import torch
        ckpt = save({"backbone.conv1.weight": torch.zeros(64, 3, 7, 7)}, os.path.join(work, "other.pth"))
        expect_error(base + ["--checkpoint", ckpt, "--input-size", "64"], absent=[out], watch=[work],
                     mentions=["--arch"])
    else:
        raise TestFailure(f"unknown kind {kind}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(KINDS))
        sys.exit(0)
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    import warnings
    warnings.filterwarnings("ignore")
    main_guard(lambda: test(*sys.argv[1:]))
