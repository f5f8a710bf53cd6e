/// What reading one config file gave: the config, when the file could be read as a mapping
/// (a best effort when `errors` is not empty: wrong settings hold their defaults), and every problem.
struct ParsedConfig<Value> {
    var value: Value?
    var errors: [UserError]
}
