"""Each architecture matches the notebooks (../ARCHITECTURES in the design docs) layer for layer on 28x28x1,
and takes its image shape from the data set."""

import pytest
import torch
from torch import nn

from gvc.models import MODELS, build_model
from gvc.models.layers import Dropout

PAPER_PARAMS = {
    "linear_gan": {"generator": 579_728, "discriminator": 566_273},
    "dcgan": {"generator": 1_654_529, "discriminator": 400_385},
    "linear_vae": {"total": 942_128},
    "conv_vae": {"total": 1_390_113},
}


@pytest.fixture(params=sorted(MODELS))
def model_name(request):
    return request.param


def paper_model(name: str):
    from tests.conftest import make_config

    return build_model(make_config([f"model={name}"]).model)


def test_parameter_counts_match_the_paper(model_name):
    counts = paper_model(model_name).parameter_counts()
    for part, expected in PAPER_PARAMS[model_name].items():
        assert counts[part] == expected


def test_generate_gives_images_in_unit_range(model_name):
    model = paper_model(model_name).eval()
    images = model.generate(torch.randn(7, model.latent_dim))
    assert images.shape == (7, 1, 28, 28)
    assert images.min() >= 0 and images.max() <= 1


def test_gan_discriminator_returns_one_logit_per_image():
    for name in ("linear_gan", "dcgan"):
        model = paper_model(name)
        out = model.discriminator(torch.rand(5, 1, 28, 28) * 2 - 1)
        assert out.shape == (5, 1)
        assert not isinstance(list(model.discriminator.modules())[-1], (nn.Sigmoid, nn.Tanh))  # logits


def test_vae_encoder_splits_mean_and_log_variance():
    for name in ("linear_vae", "conv_vae"):
        model = paper_model(name).eval()
        mu, logvar = model.encode(torch.rand(3, 1, 28, 28))
        assert mu.shape == logvar.shape == (3, 16)
        recon, mu2, _ = model(torch.rand(3, 1, 28, 28))
        assert recon.shape == (3, 1, 28, 28)


def test_linear_gan_layers_in_paper_order():
    model = paper_model("linear_gan")
    g = [m for m in model.generator if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in g] == [(100, 128), (128, 256), (256, 512), (512, 784)]
    assert isinstance(model.generator[-1], nn.Tanh)
    d = [m for m in model.discriminator if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in d] == [(784, 512), (512, 256), (256, 128), (128, 1)]
    assert [m.p for m in model.discriminator if isinstance(m, Dropout)] == [0.4, 0.4, 0.4]
    assert all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2
               for m in model.modules() if isinstance(m, (nn.LeakyReLU, nn.ReLU)))


def test_dcgan_layers_in_paper_order():
    model = paper_model("dcgan")
    convs = [m for m in model.discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding) for c in convs] == [
        (1, 32, (3, 3), (2, 2), (1, 1)), (32, 64, (3, 3), (1, 1), (1, 1)),
        (64, 128, (3, 3), (1, 1), (1, 1)), (128, 256, (3, 3), (2, 2), (1, 1))]
    assert [m.p for m in model.discriminator.modules() if isinstance(m, nn.Dropout2d)] == [0.25] * 4
    tconvs = [m for m in model.generator if isinstance(m, nn.ConvTranspose2d)]
    assert [(t.in_channels, t.out_channels, t.stride, t.output_padding) for t in tconvs] == [
        (256, 128, (2, 2), (1, 1)), (128, 64, (1, 1), (0, 0)), (64, 32, (1, 1), (0, 0)), (32, 1, (2, 2), (1, 1))]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert isinstance(model.generator[0], nn.Linear) and model.generator[0].out_features == 12544
    assert isinstance(model.generator[-1], nn.Tanh)


def test_conv_vae_reuses_the_dcgan_bodies():
    vae, gan = paper_model("conv_vae"), paper_model("dcgan")
    shapes = lambda mod: [tuple(p.shape) for p in mod.parameters()]
    assert shapes(vae.encoder)[:-2] == shapes(gan.discriminator)[:-2]  # same convolutions, different head
    assert isinstance(vae.decoder[-1], nn.Sigmoid)
    assert shapes(vae.decoder)[2:] == shapes(gan.generator)[2:]  # same transposed convolutions


def test_latent_dim_and_dropout_come_from_config():
    from tests.conftest import make_config

    model = build_model(make_config(["model=conv_vae", "model.latent_dim=8", "model.dropout=0.1"]).model)
    assert model.latent_dim == 8
    assert model.encode(torch.rand(2, 1, 28, 28))[0].shape == (2, 8)
    assert {d.p for d in model.modules() if isinstance(d, nn.Dropout2d)} == {0.1}


def test_fast_dropout_has_the_distribution_of_nn_dropout():
    torch.manual_seed(0)
    drop = Dropout(0.4).train()
    x = torch.ones(200_000)
    y = drop(x)
    assert abs((y == 0).float().mean().item() - 0.4) < 0.01
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.6))
    assert abs(y.mean().item() - 1.0) < 0.01  # inverted dropout keeps the expectation
    assert torch.equal(drop.eval()(x), x)
    with pytest.raises(ValueError, match="dropout"):
        Dropout(1.0)


def test_unknown_model_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="linear_gan"):
        build_model({"name": "wgan", "latent_dim": 100})


def test_unknown_model_key_is_refused():
    with pytest.raises(Exception, match="widht"):
        build_model({"name": "dcgan", "latent_dim": 100, "widhts": [1, 2, 3, 4]})


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 16, 24)])
def test_models_take_the_image_shape_from_the_data(model_name, shape):
    from tests.conftest import make_config

    model = build_model(make_config([f"model={model_name}"]).model, shape).eval()
    images = model.generate(torch.randn(3, model.latent_dim))
    assert images.shape == (3, *shape)
    if model.family == "gan":
        assert model.discriminator(images * 2 - 1).shape == (3, 1)
    else:
        assert model(images)[0].shape == (3, *shape)
    if shape == (1, 28, 28):  # the paper's widths and parameter counts are unchanged for MNIST's shape
        assert build_model(make_config([f"model={model_name}"]).model).parameter_counts() == model.parameter_counts()


def test_conv_models_refuse_sides_not_divisible_by_four():
    from tests.conftest import make_config

    with pytest.raises(ValueError, match="divisible by 4"):
        build_model(make_config(["model=dcgan"]).model, (1, 30, 30))


def test_the_family_table_decides_steps_and_optimised_parts(model_name):
    from tests.conftest import make_config
    from gvc.facts import FAMILIES as FACTS
    from gvc.training.families import FAMILIES, family

    model = build_model(make_config([f"model={model_name}"]).model)
    entry = family(model)
    assert entry is FAMILIES[model.family] and entry.facts is FACTS[model.family]
    parts = entry.parts(model)
    assert sum(p.numel() for part in parts.values() for p in part.parameters()) == model.parameter_counts()["total"]
