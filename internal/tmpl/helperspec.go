package tmpl

// showHelper is the internal helper every {{expr}} is routed through (see
// check). Its name cannot clash with a Habitat helper and is unlikely as a
// data key.
const showHelper = "_tend_show_"

// usage says where a helper may appear.
type usage int

const (
	inline   usage = iota // {{h a}} or (h a)
	block                 // {{#h a}}…{{/h}} only
	rawBlock              // {{{{h}}}}…{{{{/h}}}} only
	field                 // a raymond global we shadow: only a bare {{name}}, read as data
)

type helperSpec struct {
	use         usage
	min, max    int // parameter count; max -1 means any
	blockParams int // how many "as |x|" names the block helper fills
}

// helperSpecs is every helper name a template can call. Besides Habitat's
// own (research/habitat.md §6.4) it has the handlebars-rust built-ins that
// Habitat 2 templates may use, and raymond's global helpers as "field" so a
// template cannot reach them (they log through logrus and are not Habitat).
var helperSpecs = map[string]helperSpec{
	showHelper: {use: inline, min: 1, max: 1},

	"if":        {use: block, min: 1, max: 1},
	"unless":    {use: block, min: 1, max: 1},
	"with":      {use: block, min: 1, max: 1, blockParams: 1},
	"each":      {use: block, min: 1, max: 1, blockParams: 1},
	"eachAlive": {use: block, min: 1, max: 1, blockParams: 1},
	"raw":       {use: rawBlock},
	"lookup":    {use: inline, min: 2, max: 2},
	"log":       {use: inline, min: 1, max: -1},

	"eq":  {use: inline, min: 2, max: 2},
	"ne":  {use: inline, min: 2, max: 2},
	"gt":  {use: inline, min: 2, max: 2},
	"gte": {use: inline, min: 2, max: 2},
	"lt":  {use: inline, min: 2, max: 2},
	"lte": {use: inline, min: 2, max: 2},
	"and": {use: inline, min: 1, max: -1},
	"or":  {use: inline, min: 1, max: -1},
	"not": {use: inline, min: 1, max: 1},
	"len": {use: inline, min: 1, max: 1},

	"pkgPathFor":  {use: inline, min: 1, max: 1},
	"strConcat":   {use: inline, min: 1, max: -1},
	"strJoin":     {use: inline, min: 2, max: 2},
	"strReplace":  {use: inline, min: 3, max: 3},
	"toUppercase": {use: inline, min: 1, max: 1},
	"toLowercase": {use: inline, min: 1, max: 1},
	"toJson":      {use: inline, min: 1, max: 1},
	"toToml":      {use: inline, min: 1, max: 1},
	"toYaml":      {use: inline, min: 1, max: 1},
	"json":        {use: inline, min: 1, max: 1},
	"toml":        {use: inline, min: 1, max: 1},

	"equal":             {use: field},
	"ifGt":              {use: field},
	"ifLt":              {use: field},
	"ifEq":              {use: field},
	"ifMatchesRegexStr": {use: field},
	"pluralize":         {use: field},
}
