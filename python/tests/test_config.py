"""daa_gen.Config: the command's validation, messages, defaults and TOML; derived values; pickling."""

import copy
import pickle

import pytest

import daa_gen
from conftest import ROOT

# (keyword arguments, the same settings as `daa config` flags); each one invalid.
INVALID = [
    ({"format": "fp8"}, ["--format", "fp8"]),
    ({"format": "e9m3"}, ["--format", "e9m3"]),
    ({"format": "e4m0"}, ["--format", "e4m0"]),
    ({"policy": "bogus"}, ["--policy", "bogus"]),
    ({"lo_bits": 7, "format": "bf16"}, ["--lo-bits", "7", "--format", "bf16"]),
    ({"lo_bits": 23}, ["--lo-bits", "23"]),
    ({"lo_rounding": "up"}, ["--lo-rounding", "up"]),
    ({"rows": 0}, ["--rows", "0"]),
    ({"rows": 257}, ["--rows", "257"]),
    ({"cols": 999}, ["--cols", "999"]),
    ({"pipeline": 6}, ["--pipeline", "6"]),
    ({"interleave": 0}, ["--interleave", "0"]),
    ({"interleave": 9}, ["--interleave", "9"]),
    ({"name": "9lives"}, ["--name", "9lives"]),
    ({"name": "a" * 65}, ["--name", "a" * 65]),
    ({"policy": "bogus", "rows": 0}, ["--policy", "bogus", "--rows", "0"]),
]


def cli_error(daa, args):
    code, out, err = daa("config", *args)
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("error: ")
    return err[len("error: "):].rstrip("\n")


@pytest.mark.parametrize("kwargs,args", INVALID, ids=[" ".join(a) for _, a in INVALID])
def test_invalid_settings_raise_the_commands_message(daa, kwargs, args):
    with pytest.raises(ValueError) as e:
        daa_gen.Config(**kwargs)
    assert str(e.value) == cli_error(daa, args)


@pytest.mark.parametrize("field", ["lo_bits", "rows", "cols", "pipeline", "interleave"])
@pytest.mark.parametrize("value", [-1, 2**32, 2**40])
def test_integers_outside_u32_name_the_field_and_value(daa, field, value):
    with pytest.raises(ValueError) as e:
        daa_gen.Config(**{field: value})
    # The command's message for an out-of-range value of the same field, with this value in it.
    big = cli_error(daa, ["--" + field.replace("_", "-"), "4294967295"])
    assert str(e.value) == big.replace("'4294967295'", f"'{value}'")


VALID = [
    ({}, []),
    ({"format": "bf16", "policy": "static", "rows": 3}, ["--format", "bf16", "--policy", "static", "--rows", "3"]),
    ({"format": "E5M2", "lo_rounding": "toward-zero", "pipeline": 5, "interleave": 8},
     ["--format", "E5M2", "--lo-rounding", "toward-zero", "--pipeline", "5", "--interleave", "8"]),
    ({"format": "e6m9", "policy": "single", "cols": 256, "name": "my_array"},
     ["--format", "e6m9", "--policy", "single", "--cols", "256", "--name", "my_array"]),
    ({"format": "tf32", "lo_bits": 0}, ["--format", "tf32", "--lo-bits", "0"]),
]


@pytest.mark.parametrize("kwargs,args", VALID, ids=[" ".join(a) or "defaults" for _, a in VALID])
def test_valid_settings_resolve_as_the_command_does(daa, kwargs, args):
    code, out, err = daa("config", *args)
    assert code == 0, err
    cfg = daa_gen.Config(**kwargs)
    assert cfg.to_toml() == out
    assert daa_gen.Config.from_toml_str(out) == cfg
    assert eval(repr(cfg), {"Config": daa_gen.Config}) == cfg


def test_defaults_and_none():
    cfg = daa_gen.Config()
    assert (cfg.format, cfg.policy, cfg.lo_bits, cfg.lo_rounding) == ("fp32", "daa", 7, "nearest-even")
    assert (cfg.rows, cfg.cols, cfg.pipeline, cfg.interleave, cfg.name) == (8, 8, 0, 1, "daa_fp32_daa_8x8")
    assert daa_gen.Config(format=None, policy=None, lo_rounding=None, rows=None, cols=None, pipeline=None,
                          interleave=None) == cfg
    assert daa_gen.Config(format="bf16").lo_bits == 3
    assert daa_gen.Config(format="e5m2").lo_bits == 1


def test_the_committed_packages_are_there():
    # The test below is parametrized over them: with none it would not run at all.
    assert sorted(ROOT.glob("rtl_out/*/*.toml")), f"no committed package in {ROOT / 'rtl_out'}"


@pytest.mark.parametrize("toml", sorted(ROOT.glob("rtl_out/*/*.toml")), ids=lambda p: p.parent.name)
def test_from_toml_reads_a_committed_package(daa, toml):
    cfg = daa_gen.Config.from_toml(toml)
    assert cfg.name == toml.stem
    assert cfg.to_toml() == toml.read_text()
    assert daa_gen.Config.from_toml(str(toml)) == cfg
    code, out, _ = daa("config", "--config", toml)
    assert code == 0 and out == cfg.to_toml()


def test_toml_errors_are_the_commands(daa, tmp_path):
    for text in ['formt = "bf16"\n', 'rows = "four"\n', 'rows = 0\n', "not toml at all [\n"]:
        path = tmp_path / "c.toml"
        path.write_text(text)
        with pytest.raises(ValueError) as e:
            daa_gen.Config.from_toml(path)
        assert str(e.value) == cli_error(daa, ["--config", path])
    missing = tmp_path / "missing.toml"
    with pytest.raises(ValueError) as e:
        daa_gen.Config.from_toml(missing)
    assert str(e.value) == cli_error(daa, ["--config", missing])
    with pytest.raises(ValueError, match="formt"):
        daa_gen.Config.from_toml_str('formt = "bf16"\n')


@pytest.mark.parametrize(
    "kwargs,fields",
    [
        ({}, dict(exp_bits=8, frac_bits=23, width=32, lanes=2, tile_rows=8)),
        ({"format": "bf16", "policy": "single", "rows": 4, "interleave": 3},
         dict(exp_bits=8, frac_bits=7, width=16, lanes=1, tile_rows=12)),
        ({"format": "fp16", "interleave": 8, "rows": 16}, dict(exp_bits=5, frac_bits=10, width=16, lanes=2, tile_rows=128)),
        ({"format": "e4m3"}, dict(exp_bits=4, frac_bits=3, width=8, lanes=2, tile_rows=8)),
    ],
)
def test_format_fields_and_derived_values(kwargs, fields):
    cfg = daa_gen.Config(**kwargs)
    for k, v in fields.items():
        assert getattr(cfg, k) == v, k


def test_latency_follows_the_documented_formula():
    # docs/pe.md: products (2 dual, 1 single) + min(pipeline, useful) + min(interleave, 4) stages.
    for policy in daa_gen.POLICIES:
        for pipeline in range(6):
            for interleave in range(1, 9):
                cfg = daa_gen.Config(policy=policy, pipeline=pipeline, interleave=interleave)
                dual = policy != "single"
                want = (2 if dual else 1) + min(pipeline, 5 if dual else 2) + min(interleave, 4)
                assert cfg.latency == want, (policy, pipeline, interleave)


def test_equality_hash_pickle_and_copy():
    a = daa_gen.Config(format="bf16", policy="static")
    b = daa_gen.Config(format="bf16", policy="static", lo_bits=3)
    c = daa_gen.Config(format="bf16", policy="static", rows=4)
    assert a == b and hash(a) == hash(b) and a != c and a != "bf16"
    assert len({a, b, c}) == 2
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(c, protocol)) == c
    assert copy.copy(c) == c and copy.deepcopy(c) == c
    with pytest.raises(AttributeError):
        a.rows = 3


def test_formats_and_policies_are_the_allowed_names():
    assert daa_gen.FORMATS == ("fp32", "tf32", "bf16", "fp16")
    assert daa_gen.POLICIES == ("daa", "static", "full", "single")
    for f in daa_gen.FORMATS:
        assert daa_gen.Config(format=f).format == f
    assert "eXmY" in daa_gen.FORMAT_ALLOWED
