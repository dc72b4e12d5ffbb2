from setuptools import find_packages, setup

setup(
    name="worldsim",
    version="0.1.0",
    description="A neural game engine: small action-conditioned video models that learn a "
                "game from recorded play and then are the game, playable and steppable on a CPU.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["worldsim", "worldsim.*", "envs", "envs.*",
                                    "agents", "agents.*", "demos", "demos.*"]),
    install_requires=[
        "numpy>=1.24",
        "numba>=0.59",
        "gymnasium>=1.0",
        "pygame>=2.5",
        "torch>=2.1",
        "safetensors>=0.4",
        "moviepy>=2.0",
        "tqdm>=4.60",
        "matplotlib>=3.7",
        "crafter>=1.8",
        "stable-baselines3>=2.3",
        "scikit-image>=0.22",  # phase correlation for the picture-shift figures of `worldsim eval`
    ],
    extras_require={
        "dev": ["pytest>=7", "import-linter>=2.0"],
        # Atari for `worldsim learn` (ALE's ROMs come with ale-py). MiniGrid is not here:
        # it asks for pygame-ce, which would replace pygame's files; install it with
        # `pip install --no-deps minigrid` (it renders without pygame)
        "games": ["ale-py>=0.9"],
    },
    # bundled dream models: worldsim/models/<world>/{model,starts}.safetensors + config.json
    package_data={"worldsim": ["models/*/*.safetensors", "models/*/*.json"]},
    entry_points={"console_scripts": ["worldsim=demos.cli:main"]},
)
