"""Teacher games and Gymnasium environments. Importing this package registers every id."""
from gymnasium.envs.registration import register, registry

VOXEL_ID = "worldsim/Voxel-v0"
VOXEL_MAX_STEPS = 1000

if VOXEL_ID not in registry:
    register(id=VOXEL_ID, entry_point="envs.voxel.env:VoxelWorldEnv",
             max_episode_steps=VOXEL_MAX_STEPS)
