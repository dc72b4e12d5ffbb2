"""The copy-and-edit model (worldsim/model/editor.py): exact copies, whole-pixel warps, learning
a motion from play, and training, resuming and loading as the other presets."""
import numpy as np
import pytest
import torch

from worldsim.training import rewards as M
from worldsim.training import train as T
from worldsim.checkpoint import load_model
from worldsim.config import ModelConfig, preset
from worldsim.dream_config import DreamConfig
from worldsim.model.editor import (editor_loss, fit_action_motion, hard_st, quantize, to_float,
                             to_uint8, warp)
from worldsim.model.world import WorldModel
from worldsim.simulator import WorldSimulator

torch.set_num_threads(1)


def _frames(seed=0, n=1, size=64):
    return torch.from_numpy(np.random.default_rng(seed).integers(
        0, 256, (n, size, size, 3), dtype=np.uint8))


@pytest.mark.parametrize("name,precision", [("edit-tiny", "fp32"), ("edit-det", "fp32"),
                                            ("edit", "fp32"), ("edit", "bf16")])
def test_untrained_model_keeps_a_still_scene_identical_for_100_steps(name, precision):
    torch.manual_seed(0)
    model = WorldModel(preset(name, world="voxel"))
    K = model.cfg.dynamics.context
    start = _frames(1, 2)  # two scenes, each still (its context frames all alike)
    sim = WorldSimulator(model, batch_size=2, config=DreamConfig(precision=precision))
    sim.reset(start[:, None].repeat(1, K, 1, 1, 1), torch.zeros(2, K - 1, 8, dtype=torch.long),
              seeds=[0, 1])
    noop = torch.tensor([[1, 1, 0, 4, 4, 0, 0, 0]] * 2)
    for _ in range(100):
        frames = sim.step(noop)[0]
    assert torch.equal(frames, start)


@pytest.mark.parametrize("dx,dy", [(3, 0), (-5, 2), (0, -7)])
def test_warping_by_a_whole_pixel_shift_moves_the_frame_by_that_shift(dx, dy):
    frame = to_float(_frames(2))  # (1, 3, 64, 64)
    flow = torch.zeros(1, 2, 64, 64)
    flow[:, 0], flow[:, 1] = dx, dy
    moved = warp(frame, flow)
    expected = torch.roll(frame, shifts=(dy, dx), dims=(2, 3))
    # inside the frame every pixel is the one `flow` away, exactly; beyond, the edge repeats
    inner = (slice(None), slice(None), slice(max(dy, 0), 64 + min(dy, 0)),
             slice(max(dx, 0), 64 + min(dx, 0)))
    assert torch.equal(to_uint8(moved[inner]), to_uint8(expected[inner]))
    if dx > 0:
        edge = frame[..., :1].expand_as(moved[..., :dx])
        assert torch.equal(to_uint8(moved[..., :dx]), to_uint8(edge))


@pytest.mark.parametrize("share,moved", [(0.6, 7), (0.3, 0)])
def test_snapped_motion_copies_a_scrolling_frame_exactly(share, moved):
    """A motion head that hedges (each cell ``share`` of the action's 7-pixel motion) warps
    by a wrong whole-pixel shift; with ``snap`` every cell takes the action's motion or
    none, whichever is nearer, and the previous frame moves by exactly that."""
    from worldsim.model.editor import ACTION_MOTION_GAIN, FLOW_GAIN

    torch.manual_seed(0)
    cfg = preset("edit-tiny", world="toy", action_nvec=(3,))
    model = WorldModel(cfg).editor
    with torch.no_grad():
        model.action_motion.tables[0].weight.zero_()
        model.action_motion.tables[0].weight[1, 0] = 7 / ACTION_MOTION_GAIN  # action 1: 7 px right
        model.head.weight[:2] = 0
        model.head.bias[:2] = torch.tensor([(share - 1) * 7 / FLOW_GAIN, 0.0])
    x = to_float(_frames(3, 1))
    action = torch.tensor([[1]])
    inner = (slice(None), slice(None), slice(None), slice(8, 56))

    def warped(snap: bool):
        model.cfg.editor.snap = snap
        with torch.no_grad():
            grid, t, _, motion = model.core(model.encode(x[:, None].repeat(1, 2, 1, 1, 1)), action)
            return model.decode(grid, t, motion, x)["warped"]

    hedged = round(share * 7)
    assert torch.equal(to_uint8(warped(False)[inner]), to_uint8(torch.roll(x, hedged, 3)[inner]))
    assert torch.equal(to_uint8(warped(True)[inner]), to_uint8(torch.roll(x, moved, 3)[inner]))


def test_motion_targets_find_a_known_shift_and_still_cells():
    """The motion taught to each cell: the known shift where the picture moved, none
    where it stayed (the bottom rows, a HUD), no target where nothing explains it."""
    from worldsim.model.editor import motion_targets

    rng = np.random.default_rng(3)
    prev = rng.integers(0, 256, (1, 16, 16, 3), dtype=np.uint8).repeat(4, 1).repeat(4, 2)
    nxt = np.roll(prev, (-3, 5), axis=(1, 2))  # content moves 5 right and 3 up
    nxt[:, 52:] = prev[:, 52:]  # a HUD that stays
    flow, weight = motion_targets(to_float(torch.from_numpy(prev)),
                                  to_float(torch.from_numpy(nxt)))
    moved = flow[0, :, 2:10, 2:12]  # cells well inside the moving part
    assert (moved[0] == 5).all() and (moved[1] == -3).all()
    assert (weight[0, 2:10, 2:12] == 1).all()
    assert (flow[0, :, 14:] == 0).all() and (weight[0, 14:] == 1).all()


def test_roundings_pass_gradients_straight_through():
    p = torch.tensor([0.3, 0.6, 0.9], requires_grad=True)
    m = hard_st(p)  # the copy-or-generate mask
    assert m.tolist() == [0.0, 1.0, 1.0]
    m.sum().backward()
    assert p.grad.tolist() == [1.0, 1.0, 1.0]
    x = torch.tensor([0.1001, -0.5], requires_grad=True)  # frames fed back, on uint8 levels
    q = quantize(x)
    assert torch.allclose(q * 127.5, torch.round(q * 127.5 + 127.5) - 127.5)
    q.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_config_round_trips():
    cfg = preset("edit", world="crafter", action_nvec=(17,))
    again = ModelConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.editor.latent_channels == 4


def _shift_windows(batch, rng, K=2):
    """Random textures whose action moves them: 0 stays, 1 moves right 3 px, 2 down 2 px."""
    base = rng.integers(0, 256, (batch, 16, 16, 3), dtype=np.uint8).repeat(4, 1).repeat(4, 2)
    actions = rng.integers(0, 3, (batch, K + 1))
    frames = [base]
    for t in range(K + 1):
        move = {0: (0, 0), 1: (0, 3), 2: (2, 0)}
        shifted = np.stack([np.roll(f, move[int(a)], axis=(0, 1))
                            for f, a in zip(frames[-1], actions[:, t])])
        frames.append(shifted)
    frames = torch.from_numpy(np.stack(frames[:K + 2], 1))
    return frames, torch.from_numpy(actions[:, :K + 1, None]).long()


def test_motion_table_is_fitted_to_the_play():
    """Before training, each action value's whole-frame motion is fitted to the data: on
    textures that action 1 moves 3 right and action 2 moves 2 down, the table says so."""
    from worldsim.model.editor import ACTION_MOTION_GAIN

    frames, actions = _shift_windows(256, np.random.default_rng(4))
    x = to_float(frames)
    model = WorldModel(preset("edit-tiny", world="toy", action_nvec=(3,))).editor
    table = fit_action_motion(model, x[:, 1], x[:, 2], actions[:, 1])
    assert torch.allclose(table[:3], torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 2.0]]),
                          atol=0.1)
    looked_up = model.action_motion(torch.tensor([[1], [2]])) * ACTION_MOTION_GAIN
    assert torch.allclose(looked_up, table[1:3], atol=1e-3)


def test_motion_table_gives_a_motion_to_the_action_that_makes_it():
    """A scripted player holds a second key (component 1) whenever it turns (component 0
    at 1: 3 px right) and only sometimes otherwise; the other pairs are a still picture.
    The turn gets its 3 pixels exactly, the held key and standing still none."""
    rng = np.random.default_rng(7)
    frames, turn = _shift_windows(512, rng)
    turn = (turn[:, 1, 0] == 1).long()
    held = torch.where(turn == 1, 1, torch.from_numpy(rng.integers(0, 2, 512)))
    x = to_float(frames)
    nxt = torch.where(turn[:, None, None, None] == 1, x[:, 1].roll(3, dims=-1), x[:, 1])
    model = WorldModel(preset("edit-tiny", world="toy", action_nvec=(2, 2))).editor
    table = fit_action_motion(model, x[:, 1], nxt, torch.stack([turn, held], 1))
    assert torch.allclose(table[:2], torch.tensor([[0.0, 0.0], [3.0, 0.0]]))
    assert torch.equal(table[3:5], torch.zeros(2, 2))  # the held key moves nothing


def test_motion_table_keeps_a_big_turn_that_perspective_spreads():
    """A big turn moves the picture 15, 16 or 17 pixels (perspective), and a third of its
    pairs show no move (the game kept the picture, as looking at a flat sky does): the
    turn still gets its 16 pixels, where the most common single reading is no move. A
    small turn's 2 pixels stay exact, and the still action moves nothing."""
    rng = np.random.default_rng(3)
    n = 300
    base = rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8).repeat(4, 1).repeat(4, 2)
    action = rng.integers(0, 3, n)  # 0 still, 1 a big turn, 2 a small turn
    big = rng.choice([0, 15, 16, 17], n, p=[0.34, 0.26, 0.2, 0.2])
    move = np.where(action == 1, big, np.where(action == 2, 2, 0))
    assert (big[action == 1] == 0).mean() > (big[action == 1] == 16).mean()
    nxt = np.stack([np.roll(f, int(m), axis=1) for f, m in zip(base, move)])
    x, y = (to_float(torch.from_numpy(f)) for f in (base, nxt))
    model = WorldModel(preset("edit-tiny", world="toy", action_nvec=(3,))).editor
    table = fit_action_motion(model, x, y, torch.from_numpy(action)[:, None])
    assert table[:3].tolist() == [[0.0, 0.0], [16.0, 0.0], [2.0, 0.0]]


def _trained_tiny(windows, steps: int, **editor) -> WorldModel:
    """A tiny deterministic toy model (``editor`` settings on top), its motion table
    fitted first as training does, then trained ``steps`` steps of 16 ``windows(n, rng)``."""
    torch.manual_seed(0)
    cfg = preset("edit-tiny", world="toy", action_nvec=(3,))
    cfg.editor.latent_channels = 0
    for name, value in editor.items():
        setattr(cfg.editor, name, value)
    world = WorldModel(cfg)
    model = world.editor
    rng = np.random.default_rng(0)
    frames, actions = windows(256, rng)
    x = to_float(frames)
    fit_action_motion(model, x[:, 1], x[:, 2], actions[:, 1])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        frames, actions = windows(16, rng)
        zeros = torch.zeros(actions.shape[:2])
        loss, _ = editor_loss(model, frames, actions[..., :1], zeros, zeros)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return world


@pytest.mark.slow
def test_model_learns_which_way_an_action_moves_the_picture():
    """Trained a few hundred steps on textures that actions move, the model's next frame
    beats copying the last one by far, and a still action keeps the frame."""
    untrained = _trained_tiny(_shift_windows, 0).editor
    table = [t.weight.clone() for t in untrained.action_motion.tables]
    world = _trained_tiny(_shift_windows, 300)
    model = world.editor
    model.eval()
    frames, actions = _shift_windows(64, np.random.default_rng(1))
    sim = WorldSimulator(world, batch_size=64)
    sim.reset(frames[:, :2], actions[:, :1], seeds=range(64))
    pred = sim.step(actions[:, 1])[0].float()
    truth, last = frames[:, 2].float(), frames[:, 1].float()
    err = ((pred - truth) ** 2).mean(dim=(1, 2, 3))
    copy = ((last - truth) ** 2).mean(dim=(1, 2, 3))
    moved = actions[:, 1, 0] != 0
    assert err[moved].mean() < 0.3 * copy[moved].mean()
    assert err[~moved].max() < 2.0  # a still action: the frame, all but exactly (> 45 dB)
    # the fitted table is kept as it was: the cells learn only what differs from it
    assert all(torch.equal(t.weight, w) for t, w in zip(model.action_motion.tables, table))


HUD_ROWS = slice(54, 60)  # across two rows of grid cells (4 pixels each)
HUD = np.kron(np.indices((3, 32)).sum(0) % 2, np.ones((2, 2)))[:, :, None] * 255  # a checkerboard


def _hud_windows(batch, rng):
    """Shift windows (see ``_shift_windows``) under a HUD bar that never moves (rows
    54-59, a checkerboard of 2-pixel squares), placed across grid cells as a game's is."""
    frames, actions = _shift_windows(batch, rng)
    frames[:, :, HUD_ROWS] = torch.from_numpy(HUD.astype(np.uint8))
    return frames, actions


def _hud_kept(stay: bool) -> float:
    """The share of moved steps whose HUD bar a tiny model, trained 150 steps on
    ``_hud_windows``, predicts exactly (within 2 levels in every pixel)."""
    model = _trained_tiny(_hud_windows, 150, stay=stay).editor
    frames, actions = _hud_windows(64, np.random.default_rng(1))
    x = to_float(frames)
    with torch.no_grad():
        grid, t, _, motion = model.core(model.encode(x[:, :2]), actions[:, 1])
        pred = quantize(model.decode(grid, t, motion, x[:, 1])["frame"])
    err = (pred - x[:, 2])[..., HUD_ROWS, :].abs().amax(dim=(1, 2, 3)) * 127.5
    moved = actions[:, 1, 0] != 0
    return float((err[moved] <= 2).float().mean())


@pytest.mark.slow
def test_stay_keeps_a_hud_in_place_while_the_picture_moves():
    """A HUD bar over a moving picture, across grid cells: motion per cell moves its edge
    rows with the picture; with the stay choice the model learns to keep it where it was."""
    with_stay, without = _hud_kept(True), _hud_kept(False)
    assert with_stay >= 0.95
    assert without <= 0.5


def test_a_model_given_the_stay_choice_dreams_as_before():
    """``add_stay`` on a trained model (as ``train --init OLD --stay`` does) changes no frame
    until it is trained: the stay starts at "never"."""
    torch.manual_seed(0)
    cfg = preset("edit-tiny", world="toy", action_nvec=(3,))
    cfg.editor.stay = False
    model = WorldModel(cfg).editor
    with torch.no_grad():  # as if trained: moving and generating
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    frames, actions = _shift_windows(8, np.random.default_rng(2))
    x = to_float(frames)

    def predict():
        grid, t, _, motion = model.core(model.encode(x[:, :2]), actions[:, 1])
        return model.decode(grid, t, motion, x[:, 1])["frame"]

    with torch.no_grad():
        before = predict()
        model.add_stay()
        after = predict()
    assert model.cfg.editor.stay and model.stay is not None
    assert torch.equal(before, after)


def test_edit_preset_trains_resumes_exactly_and_loads(voxel_episodes, tmp_path):
    def args(out, *extra):
        return ["--data", str(voxel_episodes), "--out", str(out), "--preset", "edit-tiny",
                "--threads", "1", "--steps", "8", "--ckpt-every", "3", *extra]

    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert T.main(args(straight)) == 0
    assert T.main(args(stopped, "--stop-after", "5")) == 0
    assert T.main(args(stopped)) == 0
    a, meta = load_model(straight / "model", world="voxel")
    b, _ = load_model(stopped / "model")
    assert meta["phase"] == "done" and meta["preset"] == "edit-tiny"
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    assert (straight / "samples" / "rollout_final.mp4").stat().st_size > 0


def test_a_new_run_from_an_editor_grows_its_reward_classes(voxel_episodes, tmp_path):
    paid, hurt = tmp_path / "paid", tmp_path / "hurt"
    for folder, reward in ((paid, 1.0), (hurt, -0.9)):  # the episodes, one step paying
        folder.mkdir()
        for i, f in enumerate(sorted(voxel_episodes.glob("ep_*.npz"))):
            with np.load(f) as ep:
                ep = dict(ep)
            if i == 0:
                ep["rewards"][3] = reward
            np.savez_compressed(folder / f.name, **ep)

    def args(data, out, *extra):
        return ["--data", *map(str, data), "--out", str(out), "--preset", "edit-tiny",
                "--threads", "1", "--steps", "4", *extra]

    run = tmp_path / "run"
    assert T.main(args([paid], run)) == 0
    before, _ = load_model(run / "model")
    assert before.cfg.dynamics.reward_values == (0.0, 1.0)
    # resumed on play with a reward its head does not know: refused; a new run grows it
    assert T.main(args([paid, hurt], run, "--steps", "6")) == 2
    grown, _ = M.grow_reward_classes(before, (-0.9, 0.0, 1.0))
    assert grown.cfg.dynamics.reward_classes == 3
    changed = [n for n, p in before.state_dict().items()
               if "events.reward" not in n and not torch.equal(p, grown.state_dict()[n])]
    assert changed == []  # all but the reward head is kept
    assert T.main(args([paid, hurt], tmp_path / "init", "--init", str(run / "model"),
                       "--steps", "6")) == 0
    model, meta = load_model(tmp_path / "init" / "model")
    assert model.cfg.dynamics.reward_values == (-0.9, 0.0, 1.0)
    assert (meta["phase"], meta["step"]) == ("done", 6) and meta["init"] == str(run / "model")
    assert meta["changes"][-1] == "reward classes 2 -> 3 (new: [-0.9]) at dynamics step 4"


@pytest.mark.slow
def test_bundled_voxel_dream_holds_a_still_scene_for_100_no_op_steps():
    """Still scenes made in the real game (random steps, then standing until the picture
    settles): the bundled dream, given no-op actions, stays above 35 dB for 100 steps."""
    from demos.model_eval import facts_for
    from envs.dream import bundled_checkpoint
    from worldsim.evaluation.hold import hold_still

    model, _ = load_model(bundled_checkpoint("voxel"))
    held = hold_still(model, facts_for(model), starts=4, steps=100, seed=5, device="cpu")
    assert held["still_share"] == 1.0  # the game itself kept every scene
    worst = min(step["still_psnr"] for step in held["curve"].values())
    assert worst > 35.0, worst


def test_critic_learns_blur_from_sharp_and_pushes_a_blurred_frame_to_sharpen():
    from worldsim.evaluation.metrics import edge_energy
    from worldsim.model.critic import PatchCritic, critic_losses
    torch.manual_seed(0)
    sharp = torch.rand(16, 3, 32, 32).round() * 2 - 1  # a checkerboard-like texture
    blur = torch.nn.functional.avg_pool2d(sharp, 3, 1, 1)
    critic = PatchCritic(width=16)
    opt = torch.optim.Adam(critic.parameters(), lr=2e-3, betas=(0.5, 0.9))
    for _ in range(60):
        fool, judge = critic_losses(critic, blur, sharp)
        opt.zero_grad()
        (fool + judge).backward()  # the model's loss reaches no critic weight
        opt.step()
    assert judge.item() < 1.0  # (2.0 at chance)
    with torch.no_grad():
        assert critic(sharp).mean() > critic(blur).mean()
    # the model's loss passes to the frames alone, and follows it toward the game's edges
    fake = blur.clone().requires_grad_(True)
    fool, _ = critic_losses(critic, fake, sharp)
    critic.zero_grad()
    fool.backward()
    assert all(p.grad is None or not p.grad.any() for p in critic.parameters())
    with torch.no_grad():
        moved = fake - 0.05 * fake.grad / fake.grad.abs().mean()
    assert edge_energy(moved.permute(0, 2, 3, 1)) > edge_energy(blur.permute(0, 2, 3, 1))
