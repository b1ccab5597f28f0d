// Package figures is the sandtray's shelf: every miniature a client can
// place, with its category, titles in Chinese and English, and how it is
// drawn. It is catalogue data: the kiosk draws from it, the tray model
// checks placements against it, the report and the console name figures by
// it. It imports nothing of the project.
package figures

import "fmt"

// Figure is a miniature on the shelf. Shape and Color tell the drawing
// code how to draw it procedurally; nothing is downloaded.
type Figure struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	TitleEN  string `json:"title_en"`
	TitleZH  string `json:"title_zh"`
	// Shape is the procedural form: person, animal, bird, fish, insect,
	// building, bridge, vehicle, tree, rock, fence, object, symbol.
	Shape string `json:"shape"`
	// Color is the figure's main colour, #rrggbb.
	Color string `json:"color"`
	// Size is its footprint relative to an adult figure (1).
	Size float64 `json:"size"`
}

// Categories are the shelf's sections, in the order they are shown.
var Categories = []struct{ ID, TitleEN, TitleZH string }{
	{"people", "People", "人物"},
	{"family", "Family", "家庭"},
	{"helpers", "Police and medical", "警察与医护"},
	{"wild", "Wild animals", "野生动物"},
	{"domestic", "Domestic animals", "家养动物"},
	{"sea", "Sea creatures", "海洋生物"},
	{"birds", "Birds", "鸟类"},
	{"insects", "Insects", "昆虫"},
	{"fantasy", "Prehistoric and fantasy", "史前与幻想"},
	{"buildings", "Buildings", "建筑"},
	{"bridges", "Bridges and roads", "桥梁与道路"},
	{"vehicles", "Vehicles", "交通工具"},
	{"plants", "Trees and plants", "树木与植物"},
	{"rocks", "Rocks and shells", "石头与贝壳"},
	{"fences", "Fences and walls", "围栏与墙"},
	{"household", "Household things", "家居物品"},
	{"spiritual", "Spiritual symbols", "精神象征"},
}

// figureList is category, shape, colour, size, then id:English:Chinese.
var figureList = []struct {
	cat, shape, color string
	size              float64
	items             [][3]string
}{
	{"people", "person", "#8d6e63", 1, [][3]string{{"man", "Man", "男人"}, {"woman", "Woman", "女人"}, {"old-man", "Old man", "老爷爷"}, {"old-woman", "Old woman", "老奶奶"},
		{"teenager", "Teenager", "青少年"}, {"worker", "Worker", "工人"}, {"farmer", "Farmer", "农民"}, {"teacher", "Teacher", "老师"},
		{"soldier", "Soldier", "士兵"}, {"student", "Student", "学生"}, {"prisoner", "Person in custody", "被羁押的人"}, {"judge", "Judge", "法官"}}},
	{"family", "person", "#a1887f", 0.8, [][3]string{{"baby", "Baby", "婴儿"}, {"boy", "Boy", "男孩"}, {"girl", "Girl", "女孩"}, {"mother", "Mother", "母亲"},
		{"father", "Father", "父亲"}, {"grandparents", "Grandparents", "祖父母"}, {"pregnant-woman", "Pregnant woman", "孕妇"}, {"siblings", "Siblings", "兄弟姐妹"}}},
	{"helpers", "person", "#1565c0", 1, [][3]string{{"police-officer", "Police officer", "警察"}, {"doctor", "Doctor", "医生"}, {"nurse", "Nurse", "护士"},
		{"firefighter", "Firefighter", "消防员"}, {"counsellor", "Counsellor", "心理咨询师"}, {"paramedic", "Paramedic", "急救员"}}},
	{"wild", "animal", "#795548", 1, [][3]string{{"lion", "Lion", "狮子"}, {"tiger", "Tiger", "老虎"}, {"bear", "Bear", "熊"}, {"wolf", "Wolf", "狼"},
		{"elephant", "Elephant", "大象"}, {"giraffe", "Giraffe", "长颈鹿"}, {"snake", "Snake", "蛇"}, {"monkey", "Monkey", "猴子"}, {"fox", "Fox", "狐狸"},
		{"deer", "Deer", "鹿"}, {"panda", "Panda", "熊猫"}, {"crocodile", "Crocodile", "鳄鱼"}}},
	{"domestic", "animal", "#bcaaa4", 0.8, [][3]string{{"dog", "Dog", "狗"}, {"cat", "Cat", "猫"}, {"horse", "Horse", "马"}, {"cow", "Cow", "牛"},
		{"pig", "Pig", "猪"}, {"sheep", "Sheep", "羊"}, {"rabbit", "Rabbit", "兔子"}, {"chicken", "Chicken", "鸡"}}},
	{"sea", "fish", "#0277bd", 0.8, [][3]string{{"fish", "Fish", "鱼"}, {"shark", "Shark", "鲨鱼"}, {"whale", "Whale", "鲸"}, {"dolphin", "Dolphin", "海豚"},
		{"octopus", "Octopus", "章鱼"}, {"turtle", "Turtle", "海龟"}, {"crab", "Crab", "螃蟹"}}},
	{"birds", "bird", "#f9a825", 0.6, [][3]string{{"eagle", "Eagle", "鹰"}, {"owl", "Owl", "猫头鹰"}, {"dove", "Dove", "鸽子"}, {"crow", "Crow", "乌鸦"},
		{"swan", "Swan", "天鹅"}, {"parrot", "Parrot", "鹦鹉"}}},
	{"insects", "insect", "#558b2f", 0.4, [][3]string{{"butterfly", "Butterfly", "蝴蝶"}, {"spider", "Spider", "蜘蛛"}, {"bee", "Bee", "蜜蜂"},
		{"ant", "Ant", "蚂蚁"}, {"scorpion", "Scorpion", "蝎子"}}},
	{"fantasy", "animal", "#6a1b9a", 1.2, [][3]string{{"dinosaur", "Dinosaur", "恐龙"}, {"dragon", "Dragon", "龙"}, {"unicorn", "Unicorn", "独角兽"},
		{"phoenix", "Phoenix", "凤凰"}, {"monster", "Monster", "怪物"}, {"ghost", "Ghost", "幽灵"}, {"mammoth", "Mammoth", "猛犸象"}}},
	{"buildings", "building", "#8d6e63", 2, [][3]string{{"house", "House", "房子"}, {"school", "School", "学校"}, {"hospital", "Hospital", "医院"},
		{"police-station", "Police station", "派出所"}, {"prison", "Prison", "监狱"}, {"temple", "Temple", "寺庙"}, {"castle", "Castle", "城堡"},
		{"tower", "Tower", "塔"}, {"factory", "Factory", "工厂"}}},
	{"bridges", "bridge", "#6d4c41", 2, [][3]string{{"stone-bridge", "Stone bridge", "石桥"}, {"rope-bridge", "Rope bridge", "吊桥"},
		{"road", "Road", "道路"}, {"ladder", "Ladder", "梯子"}, {"gate", "Gate", "大门"}}},
	{"vehicles", "vehicle", "#c62828", 1.2, [][3]string{{"car", "Car", "汽车"}, {"police-car", "Police car", "警车"}, {"ambulance", "Ambulance", "救护车"},
		{"bus", "Bus", "公交车"}, {"train", "Train", "火车"}, {"boat", "Boat", "船"}, {"plane", "Aeroplane", "飞机"}, {"bicycle", "Bicycle", "自行车"}}},
	{"plants", "tree", "#2e7d32", 1.5, [][3]string{{"pine-tree", "Pine tree", "松树"}, {"willow", "Willow", "柳树"}, {"dead-tree", "Dead tree", "枯树"},
		{"flower", "Flower", "花"}, {"bamboo", "Bamboo", "竹子"}, {"cactus", "Cactus", "仙人掌"}, {"bush", "Bush", "灌木"}}},
	{"rocks", "rock", "#90a4ae", 0.6, [][3]string{{"stone", "Stone", "石头"}, {"boulder", "Boulder", "巨石"}, {"shell", "Shell", "贝壳"},
		{"crystal", "Crystal", "水晶"}, {"pebbles", "Pebbles", "鹅卵石"}}},
	{"fences", "fence", "#a1887f", 1.5, [][3]string{{"wooden-fence", "Wooden fence", "木栅栏"}, {"stone-wall", "Stone wall", "石墙"},
		{"barbed-wire", "Barbed wire", "铁丝网"}, {"hedge", "Hedge", "树篱"}}},
	{"household", "object", "#ff8f00", 0.5, [][3]string{{"table", "Table", "桌子"}, {"chair", "Chair", "椅子"}, {"bed", "Bed", "床"},
		{"bottle", "Bottle", "瓶子"}, {"phone", "Phone", "电话"}, {"clock", "Clock", "钟"}, {"mirror", "Mirror", "镜子"}, {"treasure-chest", "Treasure chest", "宝箱"}}},
	{"spiritual", "symbol", "#fbc02d", 0.8, [][3]string{{"candle", "Candle", "蜡烛"}, {"buddha", "Buddha", "佛像"}, {"angel", "Angel", "天使"},
		{"cross", "Cross", "十字架"}, {"yin-yang", "Yin and yang", "阴阳"}, {"lotus", "Lotus", "莲花"}, {"heart", "Heart", "爱心"}}},
}

var (
	figures = buildFigures()
	byID    = func() map[string]Figure {
		m := map[string]Figure{}
		for _, f := range figures {
			m[f.ID] = f
		}
		return m
	}()
)

func buildFigures() []Figure {
	var out []Figure
	for _, g := range figureList {
		for _, it := range g.items {
			out = append(out, Figure{ID: it[0], Category: g.cat, TitleEN: it[1], TitleZH: it[2], Shape: g.shape, Color: g.color, Size: g.size})
		}
	}
	return out
}

// All returns the shelf, in category order.
func All() []Figure { return append([]Figure(nil), figures...) }

// ByID returns one figure.
func ByID(id string) (Figure, bool) {
	f, ok := byID[id]
	return f, ok
}

// Check refuses an unknown figure id.
func Check(id string) error {
	if _, ok := byID[id]; !ok {
		return fmt.Errorf("no figure %q on the shelf", id)
	}
	return nil
}
