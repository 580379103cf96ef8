"""The demo's programme content: the training section with a course for
cooperatives (three lessons, the last with a quiz) and a short anti-fraud
course for consumers, the programme news section with two articles, and the
statistics page.

Called by ``setup_cms`` (cms/demo.py) from ``manage.py load_demo``.
Idempotent: each section, course and article is looked up by its slug and
created only when missing; a course's lessons and quiz are created with it,
so an editor's later changes to any of them survive every run.

The texts are practical advice written for the demo; the articles say they
are demo content.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Page

from cms.models import (
    ArticlePage,
    CoursePage,
    HomePage,
    LessonPage,
    ProgrammeIndexPage,
    QuizQuestion,
    StatisticsPage,
    TrainingIndexPage,
)

TRAINING = {"title": "农民培训", "slug": "training"}
TRAINING_INTRO = (
    "<p>写给合作社、农户、服务站工作人员和城里买家的实用课程：怎么拍照、怎么发货、"
    "怎么安全收款、怎么识破骗局。每节课十几分钟，手机上就能学完。</p>"
)
PROGRAMME = {"title": "项目动态", "slug": "news"}
PROGRAMME_INTRO = "<p>天津市农产品网络销售全覆盖工程的进展、政策解读和各区的好做法。</p>"
STATISTICS = {"title": "覆盖与销售统计", "slug": "statistics"}
STATISTICS_INTRO = (
    "<p>全市 16 个区的村级服务站覆盖情况、合作社网上销售情况和培训情况，"
    "数据由系统定期自动汇总，可下载 CSV 文件。</p>"
)
FEATURED_COURSES_HEADING = "学会网上卖农货"


def _html(*parts: str) -> str:
    return "".join(parts)


def _text(html: str) -> dict:
    return {"type": "text", "value": html, "id": str(uuid.uuid4())}


# --- Course 1: 合作社网上销售入门 -------------------------------------------------

COOP_COURSE = {
    "title": "合作社网上销售入门",
    "slug": "coop-online-selling",
    "audience": CoursePage.Audience.COOP_MANAGERS,
    "level": CoursePage.Level.BEGINNER,
    "estimated_minutes": 45,
    "intro": (
        "面向合作社负责人和社员的三节课：拍出真实又好看的商品照片，把生鲜完好地送到买家手里，"
        "安全地收到每一笔货款。"
    ),
    "description": _html(
        "<h2>学完你能做到</h2>",
        "<ul>",
        "<li>用手机在自然光下拍出清楚、真实、看得出大小的商品照片；</li>",
        "<li>给生鲜农产品预冷、装箱、放冰袋、贴标签，选对快递；</li>",
        "<li>只认自己 App 里的到账记录，识破冒充买家、客服和快递的骗局。</li>",
        "</ul>",
        "<p>第三课有 3 道小测验。学完全部课时即可获得结业证书。</p>",
    ),
    "cover": {"kicker": "农民培训 · 入门", "art": "grapes", "panel": (29, 94, 54)},
}

PHOTO_LESSON = {
    "title": "如何拍好农产品照片",
    "slug": "product-photos",
    "summary": "用柔和的自然光、干净的背景和看得出大小的参照物，拍出真实、清楚、让买家放心的照片。",
    "body": [
        _html(
            "<h2>光线：靠窗的自然光最好</h2>",
            "<p>上午九点到十一点、下午三点到五点的柔和日光最适合拍农产品。把产品放在靠窗的桌子上，"
            "让光从侧面照过来，果蔬的纹理和光泽会更立体。正午的直射阳光阴影太硬、颜色发白，"
            "闪光灯会让表皮反光、颜色失真，都尽量不用。阴天在室外拍，光线均匀，反而很好看。</p>",
            "<p>背光的一侧太暗时，在旁边立一张白纸板或白色泡沫板，把光反射回去补亮。</p>",
        ),
        _html(
            "<h2>背景：干净、简单、不抢眼</h2>",
            "<p>用一块素色桌布、木板、竹筐或白纸做背景，把塑料袋、杂物、电线都移出画面。"
            "背景和产品的颜色要有反差：红苹果配浅色木板，白萝卜配深色布。"
            "主图用干净的背景，另外再拍几张田间、果园、大棚的实景，让买家看到产地。</p>",
        ),
        _html(
            "<h2>让买家看出大小和品质：放一个参照物</h2>",
            "<p>买家最担心“收到的比照片上的小”。拍一张产品旁边放一枚一元硬币、一只手或一把尺子的照片，"
            "或者把产品放在电子秤上，连同读数一起拍下来。再切开拍一张剖面——萝卜的脆嫩、西瓜的瓤色、"
            "鸡蛋的蛋黄——比任何文字都有说服力。</p>",
            "<ul>",
            "<li><strong>主图</strong>：一个或一份产品的正面，占画面的三分之二左右。</li>",
            "<li><strong>细节</strong>：表皮、切面、果柄，包装上的标签和认证标志。</li>",
            "<li><strong>规格</strong>：带参照物或在秤上，说明有多大、多重。</li>",
            "<li><strong>产地</strong>：种植、采收、分拣、装箱的实景。</li>",
            "</ul>",
        ),
        _html(
            "<h2>真实最重要</h2>",
            "<p>不要用滤镜改变颜色，不要用网上找来的图片。照片和实物一致，差评和退货才会少。"
            "拍之前用干净的软布擦一擦手机镜头；拍的时候点一下屏幕上的产品对焦；"
            "拍完放大看一看，清楚了再上传。同一批货换了品种或规格，要重新拍照。</p>",
        ),
    ],
}

PACKING_LESSON = {
    "title": "生鲜包装与冷链发货",
    "slug": "packing-cold-chain",
    "summary": "先预冷再装箱，保温箱加冰袋，空隙填满，贴好标签，选对快递和发货日子。",
    "body": [
        _html(
            "<h2>发货前先预冷</h2>",
            "<p>刚采摘的果蔬带着“田间热”，直接装箱会在箱子里继续呼吸发热，很快就蔫了、烂了。"
            "采收后先放在阴凉通风处或冷库里预冷几个小时，等产品温度降下来再包装；"
            "叶菜、草莓这类娇嫩的产品要尽快降温。河蟹、鱼虾要挑活力好的，发货前清洗、控水。</p>",
        ),
        _html(
            "<h2>选对包装</h2>",
            "<ul>",
            "<li>泡沫保温箱或带铝箔内衬的保温袋，外面再套一个结实的瓦楞纸箱。</li>",
            "<li>用冰袋或冻好的冰瓶，不要直接放散冰——化了的水会泡坏产品和纸箱。"
            "冰袋外面包一层报纸或吸水纸，不要直接贴着叶菜和水果，防止冻伤。</li>",
            "<li>水果套上网套或用珍珠棉、格挡分开，箱内空隙用纸团塞满，摇一摇不能晃动。</li>",
            "<li>鸡蛋用蛋托一枚一格，四周再加一层缓冲。</li>",
            "</ul>",
            "<p>夏天一个装 5 公斤左右的箱子，一般放 2–3 个冰袋；路程越远、天气越热，放得越多。"
            "冬天发往严寒地区，反而要注意防冻。</p>",
        ),
        _html(
            "<h2>贴好标签，选对快递和日子</h2>",
            "<p>箱子外面贴上“生鲜易腐”“向上”“轻放”等标识，写清楚产品名称、重量、采收日期和合作社电话。"
            "在商品信息里如实填写储运温层（常温、冷藏、冷冻），平台会为冷藏、冷冻商品安排冷链配送；"
            "普通快递只发耐储运的产品，比如大米、核桃、红薯。生鲜尽量在周一到周四发货，"
            "避免周末压在转运中心。</p>",
        ),
        _html(
            "<h2>发货之后</h2>",
            "<p>及时把快递单号填进订单，提醒买家收到后当场开箱检查。出现破损或变质，"
            "请买家拍照，合作社按约定补发或退款——认真处理好一次售后，比多一条差评划算得多。</p>",
        ),
    ],
}

PAYMENT_LESSON = {
    "title": "安全收款与防范电信诈骗",
    "slug": "safe-payments",
    "summary": "验证码不给任何人；钱到没到账，只看自己 App 里的记录；拿不准就挂断，拨打官方客服电话核实。",
    "body": [
        _html(
            "<h2>收款：只认自己 App 里的到账记录</h2>",
            "<p>在网农上卖出的货款，由平台按结算周期打到合作社登记的银行账户，"
            "在合作社后台的“结算”里能查到每一笔。线下收款时，一定要打开自己的微信、支付宝或银行 App，"
            "看到钱确实到账了再发货。</p>",
            "<p>对方发来的“转账成功”截图、短信或聊天记录都不算数——截图可以伪造，"
            "短信也可以冒充银行的号码。</p>",
        ),
        _html(
            "<h2>验证码是你钱包的钥匙</h2>",
            "<p>短信验证码、支付密码、银行卡密码，任何人要都不能给。银行、平台、快递公司和公安机关的工作人员，"
            "都不会向你索要验证码。对方说“给你退款”“帮你解冻账户”“你的快递丢了要理赔”，"
            "然后让你报验证码、打开屏幕共享、下载陌生 App 或者扫码付款，都是诈骗。</p>",
        ),
        _html(
            "<h2>合作社常遇到的骗局</h2>",
            "<ul>",
            "<li><strong>冒充买家</strong>：“我多付了钱，请把差价退给我”——先到 App 里查到账记录，"
            "没有到账就不存在“多付”。</li>",
            "<li><strong>冒充平台客服</strong>：“店铺违规，要交保证金才能解封”——网农不会打电话让合作社转账，"
            "有疑问请登录合作社后台查看。</li>",
            "<li><strong>冒充快递</strong>：“包裹丢了，加微信给你理赔”——理赔只在快递公司的官方渠道办理。</li>",
            "<li><strong>刷单返利、低息贷款、高额投资</strong>：凡是让你先交钱的，都是骗局。</li>",
            "</ul>",
        ),
        _html(
            "<h2>拿不准的时候怎么办</h2>",
            "<p>先挂断电话，再自己查官方客服电话拨回去核实：银行卡背面印的电话、快递公司官网上的电话，"
            "不要用对方给的号码和链接。可以拨打 96110 反诈专线咨询，遇到诈骗立即拨打 110 报警，"
            "并马上联系银行冻结、止付——越快越有可能追回。手机上安装“国家反诈中心”App，"
            "能帮你识别很多诈骗电话和短信。</p>",
        ),
    ],
    "quiz": [
        {
            "prompt": "有人自称银行客服，说你的账户异常，让你报出手机刚收到的短信验证码。你应该怎么做？",
            "choices": [
                "报给他，尽快把问题解决",
                "先报一半验证码，看看他怎么说",
                "不给验证码，挂断电话，拨打银行卡背面的客服电话核实",
            ],
            "correct": 3,
            "explanation": "银行、平台和公安机关都不会索要验证码；核实要用你自己查到的官方电话。",
        },
        {
            "prompt": "买家发来一张“转账成功”的截图，催你马上发货。怎样确认货款已经到账？",
            "choices": [
                "打开自己的收款 App 或银行 App，看到到账记录再发货",
                "截图很清楚，可以直接发货",
                "让买家再发一张付款记录截图",
            ],
            "correct": 1,
            "explanation": "截图和短信都可以伪造，到账只看自己 App 里的记录。",
        },
        {
            "prompt": "自称“网农平台客服”的人打电话说合作社店铺违规，要先交 2000 元保证金才能解封。这是？",
            "choices": [
                "平台的正常规定，应尽快转账",
                "可以先交一半，剩下的以后再说",
                "诈骗：平台不会打电话让你转账，应挂断并登录合作社后台核实",
            ],
            "correct": 3,
            "explanation": "让你先交钱的“客服”都是骗子；店铺状态以合作社后台显示的为准。",
        },
    ],
}

COOP_LESSONS = [PHOTO_LESSON, PACKING_LESSON, PAYMENT_LESSON]

# --- Course 2: 识破支付诈骗 (consumers, the elderly, migrant workers) ----------

FRAUD_COURSE = {
    "title": "识破支付诈骗：写给老人和外出务工人员",
    "slug": "spot-payment-fraud",
    "audience": CoursePage.Audience.CONSUMERS,
    "level": CoursePage.Level.BEGINNER,
    "estimated_minutes": 15,
    "intro": "五种最常见的支付骗局和一套应对办法，适合讲给家里的老人和在外打工的亲人听。",
    "description": _html(
        "<p>骗子最常冒充的是亲友、公检法、客服和“发补贴的工作人员”。记住一条：凡是让你转账、"
        "报验证码、扫陌生二维码的，先停下来核实。</p>",
    ),
    "cover": {"kicker": "防骗课 · 入门", "art": "persimmon", "panel": (139, 45, 33)},
}

SCAMS_LESSON = {
    "title": "五种常见的支付骗局",
    "slug": "common-scams",
    "summary": "冒充亲友借钱、冒充公检法、冒充客服退款、领补贴先交费、刷单兼职。",
    "body": [
        _html(
            "<h2>1. 冒充亲友：“我换新号了，急用钱”</h2>",
            "<p>先用原来存的号码打过去，或者视频通话，确认是本人再说。</p>",
            "<h2>2. 冒充公检法：“你涉嫌洗钱，把钱转到安全账户”</h2>",
            "<p>公检法机关不会打电话办案，更没有什么“安全账户”。</p>",
            "<h2>3. 冒充客服：“商品有问题，给你退款”</h2>",
            "<p>退款会原路退回，不需要你报验证码、开屏幕共享或扫码。</p>",
            "<h2>4. 领补贴、领养老金要先交“手续费”</h2>",
            "<p>国家的补贴和养老金不收任何手续费，有疑问到村委会、社区或社保窗口问。</p>",
            "<h2>5. 刷单兼职、高薪招工先交押金</h2>",
            "<p>外出找工作要走正规招聘渠道；先交押金、培训费、刷单垫付的，都是骗局。</p>",
        ),
    ],
}

RESPONSE_LESSON = {
    "title": "遇到可疑情况怎么办",
    "slug": "what-to-do",
    "summary": "三不一多：陌生链接不点，陌生来电不轻信，个人信息不透露，转账汇款多核实。",
    "body": [
        _html(
            "<h2>三不一多</h2>",
            "<ul>",
            "<li>陌生链接不点击，陌生二维码不扫；</li>",
            "<li>陌生来电不轻信，对方说得再急也先挂断；</li>",
            "<li>银行卡号、密码、验证码、身份证照片不透露；</li>",
            "<li>转账汇款前，多打一个电话给家人或银行核实。</li>",
            "</ul>",
            "<h2>求助电话</h2>",
            "<p>96110 是反诈专线，可以咨询；已经被骗，立即拨打 110 报警，同时联系银行止付。"
            "请家里年轻人帮忙在手机上装好“国家反诈中心”App。</p>",
        ),
    ],
    "quiz": [
        {
            "prompt": "“孙子”用一个新号码打来电话，说出了事急需用钱。你先做什么？",
            "choices": [
                "马上转账，救急要紧",
                "用原来存的号码打给孙子，或者视频确认",
                "把银行卡号告诉对方，让他自己取",
            ],
            "correct": 2,
            "explanation": "冒充亲友是最常见的骗局，先用原来的号码或视频核实。",
        },
        {
            "prompt": "对方自称警察，说你涉嫌洗钱，要你把存款转到“安全账户”。这是？",
            "choices": [
                "诈骗，公检法没有“安全账户”，应挂断并拨打 110 核实",
                "配合调查，按对方说的转账",
            ],
            "correct": 1,
            "explanation": "公检法机关不会电话办案，也不会让你转账。",
        },
    ],
}

FRAUD_LESSONS = [SCAMS_LESSON, RESPONSE_LESSON]

# --- Programme news ---------------------------------------------------------------

DEMO_NOTE = "<p><em>本文为演示内容，数字和地点仅作示例。</em></p>"

ARTICLES = [
    {
        "title": "首批村级电商服务站开门营业",
        "slug": "village-stations-open",
        "kind": ArticlePage.Kind.NEWS,
        "days_ago": 12,
        "tags": ["服务站", "全覆盖工程"],
        "intro": (
            "设在村委会、便民超市和邮政网点里的村级电商服务站陆续开门，"
            "村民在家门口就能网上买卖、收寄快递、参加培训。"
        ),
        "body": _html(
            "<p>这个月，西青区、武清区、宝坻区等地的首批村级电商服务站陆续开门营业。服务站大多设在村委会、"
            "便民超市或邮政网点里，由村里熟悉手机操作的年轻人担任站长。</p>",
            "<h2>服务站能做什么</h2>",
            "<ul>",
            "<li><strong>代下单、代收货</strong>：不会用手机的老人，可以请站长帮忙下单，货到服务站自取。</li>",
            "<li><strong>帮合作社上架</strong>：拍照、写商品介绍、填写储运温层，站长手把手教。</li>",
            "<li><strong>组织培训</strong>：在村里开班讲拍照、包装发货、安全收款，讲完登记参加人数。</li>",
            "</ul>",
            "<h2>下一步</h2>",
            "<p>按照全覆盖工程的安排，服务站会逐步覆盖更多行政村。每个区有多少个村已经有了服务站，"
            "可以在本站的“覆盖与销售统计”页面随时查看。</p>",
            DEMO_NOTE,
        ),
        "cover": {"kicker": "项目动态 · 新闻", "art": "giftbox_green", "panel": (29, 94, 54)},
    },
    {
        "title": "政策解读：什么是农产品网络销售全覆盖工程",
        "slug": "online-sales-full-coverage-explained",
        "kind": ArticlePage.Kind.POLICY,
        "days_ago": 30,
        "tags": ["政策解读", "全覆盖工程", "合作社"],
        "intro": "三个目标、三件实事：服务站进村、合作社上网、培训到人，进展每月公开。",
        "body": _html(
            "<p>农产品网络销售全覆盖工程，是要让全市的农产品都能在网上卖、让每个村都有人帮着卖。"
            "这里用问答的方式说明它要做什么、和合作社与村民有什么关系。</p>",
            "<h2>目标是什么？</h2>",
            "<ul>",
            "<li><strong>服务站进村</strong>：全市 80% 的行政村有一个正常运营的村级电商服务站。</li>",
            "<li><strong>合作社上网</strong>：每个涉农区都有经过审核的农民专业合作社在网上销售。</li>",
            "<li><strong>培训到人</strong>：合作社负责人、服务站工作人员和有需要的村民都能参加网上销售和防骗培训。</li>",
            "</ul>",
            "<h2>合作社怎么加入？</h2>",
            "<p>合作社在本站提交入驻申请，上传营业执照等材料，审核通过后就能上架商品。"
            "货款按结算周期打到合作社的对公账户，每一笔都能在后台查到。</p>",
            "<h2>进展怎么看？</h2>",
            "<p>各区有服务站的行政村数量、在网上销售的合作社数量、销售额和培训人次，"
            "都汇总在“覆盖与销售统计”页面，并提供 CSV 文件下载，任何人都可以查看和核对。</p>",
            "<p><em>本文为演示内容，具体政策以主管部门发布的正式文件为准。</em></p>",
        ),
        "cover": {"kicker": "项目动态 · 政策解读", "art": "rice", "panel": (11, 74, 139)},
    },
]


# --- Creation ------------------------------------------------------------------


def _image(title: str, spec: dict | None, images: bool, created: Counter):
    """The demo picture called ``title``, drawn and stored if missing; None
    when pictures are off (``load_demo --no-images``)."""
    if not images or spec is None:
        return None
    from cms.demo_covers import render

    Image = get_image_model()
    existing = Image.objects.filter(title=title).first()
    if existing is not None:
        return existing
    data = render(title, kicker=spec["kicker"], art=spec["art"], panel=spec["panel"])
    image = Image(title=title, file=ContentFile(data, name=f"demo-{uuid.uuid4().hex[:8]}.jpg"))
    image.save()
    created["cms images"] += 1
    return image


def _free_slug(parent: Page, slug: str) -> str:
    """``slug``, or ``slug-2``, ``slug-3``… if a sibling already has it."""
    taken = set(parent.get_children().values_list("slug", flat=True))
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


def _publish(parent: Page, page: Page, created: Counter) -> Page:
    page.slug = _free_slug(parent, page.slug)
    parent.add_child(instance=page)
    page.save_revision().publish()
    created["pages"] += 1
    return page


def _section(home: HomePage, model, spec: dict, intro: str, created: Counter):
    """The first page of ``model`` anywhere under home, or a new one."""
    found = model.objects.descendant_of(home).order_by("depth", "path").first()
    if found is not None:
        return found
    return _publish(home, model(title=spec["title"], slug=spec["slug"], intro=intro), created)


def _questions(specs: list[dict]) -> list[QuizQuestion]:
    return [
        QuizQuestion(
            sort_order=index,
            prompt=q["prompt"],
            choices="\n".join(q["choices"]),
            correct=q["correct"],
            explanation=q["explanation"],
        )
        for index, q in enumerate(specs)
    ]


def _course(
    index: TrainingIndexPage, spec: dict, lessons: list[dict], images: bool, created: Counter
) -> CoursePage:
    """The course with ``spec``'s slug (anywhere), or a new one with its lessons."""
    existing = CoursePage.objects.filter(slug=spec["slug"]).first()
    if existing is not None:
        return existing
    course = CoursePage(
        title=spec["title"],
        slug=spec["slug"],
        audience=spec["audience"],
        level=spec["level"],
        estimated_minutes=spec["estimated_minutes"],
        intro=spec["intro"],
        description=spec["description"],
        cover_image=_image(spec["title"], spec.get("cover"), images, created),
    )
    _publish(index, course, created)
    for lesson_spec in lessons:
        lesson = LessonPage(
            title=lesson_spec["title"],
            slug=lesson_spec["slug"],
            summary=lesson_spec["summary"],
            body=[_text(html) for html in lesson_spec["body"]],
            questions=_questions(lesson_spec.get("quiz", [])),
        )
        _publish(course, lesson, created)
    return course


def _article(index: ProgrammeIndexPage, spec: dict, images: bool, created: Counter) -> None:
    if ArticlePage.objects.filter(slug=spec["slug"]).exists():
        return
    article = ArticlePage(
        title=spec["title"],
        slug=spec["slug"],
        kind=spec["kind"],
        date=timezone.localdate() - dt.timedelta(days=spec["days_ago"]),
        intro=spec["intro"],
        body=[_text(spec["body"])],
        lead_image=_image(spec["title"], spec.get("cover"), images, created),
    )
    article.tags.add(*spec["tags"])
    _publish(index, article, created)


def _feature_course(home: HomePage, course: CoursePage, created: Counter) -> None:
    """Add a "featured courses" block to the home page when it has none,
    just before the latest products. Left alone when editors have a draft
    in progress, so their work is never overwritten."""
    home = HomePage.objects.get(pk=home.pk)  # as stored, not as set up in memory
    if any(block.block_type == "featured_courses" for block in home.intro):
        return
    if home.has_unpublished_changes:
        return
    stored = list(home.intro.raw_data)
    block = {
        "type": "featured_courses",
        "value": {
            "heading": FEATURED_COURSES_HEADING,
            "courses": [{"type": "item", "value": course.pk, "id": str(uuid.uuid4())}],
        },
        "id": str(uuid.uuid4()),
    }
    position = next(
        (i for i, b in enumerate(stored) if b["type"] == "latest_products"), len(stored)
    )
    stored.insert(position, block)
    home.intro = stored
    home.save_revision().publish()
    created["home page blocks"] += 1


def setup_programme(home: HomePage, *, images: bool = False) -> Counter:
    """Create what is missing of the training, news and statistics sections
    under ``home``, feature the cooperatives' course on it, and make sure
    the article moderation workflow exists (cms/workflows.py)."""
    from cms.workflows import ensure_article_workflow

    created: Counter = Counter()
    training = _section(home, TrainingIndexPage, TRAINING, TRAINING_INTRO, created)
    coop_course = _course(training, COOP_COURSE, COOP_LESSONS, images, created)
    _course(training, FRAUD_COURSE, FRAUD_LESSONS, images, created)

    programme = _section(home, ProgrammeIndexPage, PROGRAMME, PROGRAMME_INTRO, created)
    for spec in ARTICLES:
        _article(programme, spec, images, created)

    if not StatisticsPage.objects.exists():
        _publish(
            home,
            StatisticsPage(
                title=STATISTICS["title"], slug=STATISTICS["slug"], intro=STATISTICS_INTRO
            ),
            created,
        )

    _feature_course(home, coop_course, created)
    ensure_article_workflow()
    return created
