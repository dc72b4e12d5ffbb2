"""Teacher games and Gymnasium environments. Importing this package registers every id."""
from gymnasium.envs.registration import register, registry

VOXEL_ID = "worldsim/Voxel-v0"
VOXEL_MAX_STEPS = 1000

if VOXEL_ID not in registry:
    register(id=VOXEL_ID, entry_point="envs.voxel.env:VoxelWorldEnv",
             max_episode_steps=VOXEL_MAX_STEPS)

CRAFTER_ID = "worldsim/Crafter-v0"
CRAFTER_MAX_STEPS = 10000  # crafter's own episode length (the adapter never ends one by time)

if CRAFTER_ID not in registry:
    register(id=CRAFTER_ID, entry_point="envs.crafter:CrafterEnv",
             max_episode_steps=CRAFTER_MAX_STEPS)

# dreams: trained world models standing in for the teachers (envs/dream.py); they take
# checkpoint= (default: the bundled model), config= (a worldsim.dream_config.DreamConfig)
# or its fields as keywords (device=, sampling_steps=, ...), start_data=
DREAM_IDS = {"voxel": "worldsim/DreamVoxel-v0", "crafter": "worldsim/DreamCrafter-v0"}
DREAM_MAX_STEPS = {"voxel": VOXEL_MAX_STEPS, "crafter": CRAFTER_MAX_STEPS}

for _world, _id in DREAM_IDS.items():
    if _id not in registry:
        register(id=_id, entry_point="envs.dream:DreamEnv",
                 vector_entry_point="envs.dream:DreamVectorEnv",
                 max_episode_steps=DREAM_MAX_STEPS[_world], kwargs={"world": _world})

# a dream of whatever game the checkpoint's model learned: gym.make(DREAM_ID, checkpoint=DIR)
DREAM_ID = "worldsim/Dream-v0"

if DREAM_ID not in registry:
    register(id=DREAM_ID, entry_point="envs.dream:DreamEnv",
             vector_entry_point="envs.dream:DreamVectorEnv")
