import Foundation
import Testing

@testable import PerfCore

/// What every config file gets from being read as YAML: syntax, encoding, size, aliases, repeated keys.
@Suite struct ConfigDocumentTests {
    private func clusterProblems(_ text: String) throws -> (file: String, problems: [UserError]) {
        try clusterProblems(bytes: Data(text.utf8))
    }

    private func clusterProblems(bytes: Data) throws -> (file: String, problems: [UserError]) {
        let tree = try ConfigTree(cluster: nil)
        try tree.write("cluster.yaml", bytes: bytes)
        return (tree.clusterFile, ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCluster(file: tree.clusterFile) })
    }

    @Test func fileWithThreeProblemsReportsAllThree() throws {
        let (file, problems) = try clusterProblems("""
            vendor: cpu
            master_port: 0
            hosts:
              - address: localhost
                ssh: {port: "22"}
            agent_rot: /srv/agent

            """)
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.map(\.location) == ["\(file):2:14", "\(file):5:17", "\(file):6:1"])
    }

    @Test func repeatedKeyIsReportedAtTheRepetitionAndTheRestIsStillRead() throws {
        let (file, problems) = try clusterProblems("""
            vendor: cpu
            master_port: 29500
            hosts: [{address: localhost}]
            master_port: 29501
            results_dir: 5:5:5
            colour: red

            """)
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(file):4:1",
                      message: ["key `master_port` is repeated: it is already set at line 2, column 1"],
                      fix: ["keep one `master_port:`"])
        expectProblem(problems[1], at: "\(file):6:1", message: ["unknown key `colour`"], fix: [])
    }

    @Test func repeatedKeyOnOneLineKeepsItsColumn() throws {
        let (file, problems) = try clusterProblems("""
            vendor: cpu
            hosts: [{address: localhost, name: a, "name": b, name: c}]

            """)
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(file):2:39", message: ["key `name` is repeated: it is already set at line 2, column 30"], fix: [])
        expectProblem(problems[1], at: "\(file):2:50", message: ["key `name` is repeated: it is already set at line 2, column 30"], fix: [])
    }

    @Test func syntaxErrorCarriesLibyamlLineAndColumn() throws {
        let (file, problems) = try clusterProblems("""
            vendor: cpu
            hosts: [{address: localhost}
            master_port: 1

            """)
        expectOneProblem(problems, at: "\(file):3:1",
                         message: ["YAML syntax error: did not find expected ',' or ']'", "at line 2, column 8"],
                         fix: ["close the list with `]`"])
    }

    @Test func tabIndentationIsToldToUseSpaces() throws {
        let (file, problems) = try clusterProblems("vendor: cpu\nhosts:\n\t- address: localhost\n")
        expectOneProblem(problems, at: "\(file):3:1", message: ["YAML syntax error"], fix: ["indent with spaces"])
    }

    @Test func colonInsidePlainValueIsToldToQuote() throws {
        let (file, problems) = try clusterProblems("vendor: cpu: gpu\nhosts: [{address: localhost}]\n")
        expectOneProblem(problems, at: "\(file):1:12", message: ["mapping values are not allowed"], fix: ["quote a value"])
    }

    @Test func byteOrderMarkAndWindowsLineEndingsKeepPositions() throws {
        let (file, problems) = try clusterProblems("\u{FEFF}vendor: cpu\r\nmaster_port: x\r\nhosts: [{address: localhost}]\r\n")
        expectOneProblem(problems, at: "\(file):2:14", message: ["`master_port` must be a whole number"], fix: [])
    }

    @Test func topLevelMustBeAMapping() throws {
        let (file, problems) = try clusterProblems("- vendor: cpu\n- hosts: []\n")
        expectOneProblem(problems, at: "\(file):1:1",
                         message: ["the top level of the file must be a mapping", "but it is a list"], fix: ["vendor: cpu"])
    }

    @Test func emptyFileSaysWhatToWrite() throws {
        let (file, problems) = try clusterProblems("# nothing yet\n")
        expectOneProblem(problems, at: "\(file):1:1", message: ["the file is empty"], fix: ["vendor: cpu", "hosts:"])
    }

    @Test func secondDocumentIsRefused() throws {
        let (file, problems) = try clusterProblems("vendor: cpu\nhosts: [{address: localhost}]\n---\nvendor: gpu\n")
        expectOneProblem(problems, at: "\(file):3:1", message: ["a second YAML document starts here"], fix: ["delete this `---`"])
    }

    @Test func fileOverOneMebibyteIsRefusedUnread() throws {
        let text = "vendor: cpu\nhosts: [{address: localhost}]\n" + String(repeating: "# padding\n", count: 110_000)
        let (file, problems) = try clusterProblems(text)
        expectOneProblem(problems, at: file,
                         message: ["the file has \(text.utf8.count) bytes, more than the 1 MiB (1048576 bytes)"],
                         fix: ["config files are a few kilobytes"])
    }

    @Test func nonUTF8FileNamesTheBadByteAndWhere() throws {
        var bytes = Data("vendor: cpu\nhosts: [{address: caf".utf8)
        bytes.append(contentsOf: [0xE9, 0x2E])
        bytes.append(contentsOf: Data("}]\n".utf8))
        let (file, problems) = try clusterProblems(bytes: bytes)
        expectOneProblem(problems, at: "\(file):2:22",
                         message: ["not UTF-8", "byte 0xE9 at line 2, column 22"], fix: ["save the file as UTF-8"])
    }

    @Test func utf16FileIsRecognised() throws {
        var bytes = Data([0xFF, 0xFE])
        bytes.append("vendor: cpu\n".data(using: .utf16LittleEndian) ?? Data())
        let (file, problems) = try clusterProblems(bytes: bytes)
        expectOneProblem(problems, at: "\(file):1:1", message: ["byte 0xFF"], fix: ["looks like UTF-16"])
    }

    @Test func controlCharacterIsRefusedWithItsPosition() throws {
        let (file, problems) = try clusterProblems("vendor: cpu\nhosts: [{address: local\u{1}host}]\n")
        expectOneProblem(problems, at: "\(file):2:24",
                         message: ["a character YAML does not allow", "U+1"], fix: ["delete the character"])
    }

    @Test func aliasIsRefusedAtItsPosition() throws {
        let (file, problems) = try clusterProblems("""
            vendor: cpu
            ssh: &defaults {port: 2222}
            hosts:
              - {address: node1, ssh: *defaults}

            """)
        expectOneProblem(problems, at: "\(file):4:27",
                         message: ["YAML alias `*defaults` is not supported"], fix: ["write the value out in full", "alias bomb"])
    }

    @Test func aliasBombIsRefusedBeforeItExpands() throws {
        var text = "vendor: cpu\nhosts: [{address: localhost}]\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "*l9 : boom\n"
        let started = ContinuousClock.now
        let (_, problems) = try clusterProblems(text)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(problems.count == 91, "every alias is reported")
        #expect(problems.allSatisfy { $0.message.contains("YAML alias") })
    }

    @Test func starsInStringsCommentsAndWordsAreNotAliases() throws {
        let tree = try ConfigTree(cases: ["demo": """
            description: computes 2*x and a*b # *not an alias
            framework: pytorch
            entry: [python3, "*main.py", '*x']
            args:
              - |
                *literal
              - glob*files

            """])
        let config = try ConfigLoader.loadCase(directory: tree.path("cases/demo"))
        #expect(config.description == "computes 2*x and a*b")
        #expect(config.settings.entry == ["python3", "*main.py", "*x"])
        #expect(config.settings.args == ["*literal\n", "glob*files"])
    }
}
