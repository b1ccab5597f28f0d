package figures

// replaced maps the ids of the first shelf (124 figures drawn in code,
// before the library) to the library's figures, so that trays recorded
// with them still replay: the same id where the library has it, otherwise
// the nearest figure a therapist would accept (TestReplaced names them all).
var replaced = map[string]string{
	"teenager": "person", "worker": "construction-worker", "soldier": "guard", "prisoner": "person-standing",
	"mother": "woman", "father": "man", "grandparents": "older-person", "siblings": "people-holding-hands",
	"doctor": "health-worker", "nurse": "woman-health-worker", "counsellor": "office-worker", "paramedic": "man-health-worker",
	"sheep": "ewe", "crow": "black-bird", "bee": "honeybee", "dinosaur": "t-rex", "phoenix": "peacock", "monster": "ogre",
	"police-station": "classical-building", "prison": "locked", "temple": "shinto-shrine", "tower": "tokyo-tower",
	"stone-bridge": "bridge-at-night", "rope-bridge": "bridge-at-night", "road": "motorway", "gate": "door",
	"car": "automobile", "boat": "sailboat", "plane": "airplane", "pine-tree": "evergreen-tree", "willow": "deciduous-tree",
	"dead-tree": "wood", "flower": "tulip", "bamboo": "tanabata-tree", "bush": "herb", "stone": "rock", "boulder": "rock",
	"shell": "spiral-shell", "crystal": "gem-stone", "pebbles": "rock", "wooden-fence": "construction", "stone-wall": "brick",
	"barbed-wire": "chains", "hedge": "herb", "table": "couch-and-lamp", "bottle": "bottle-with-popping-cork",
	"phone": "mobile-phone", "clock": "mantelpiece-clock", "treasure-chest": "money-bag", "buddha": "person-in-lotus-position",
	"angel": "baby-angel", "cross": "latin-cross", "heart": "red-heart",
}
