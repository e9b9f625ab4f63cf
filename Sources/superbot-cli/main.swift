import Glibc
import SuperBotCLI

exit(CLI.main(Array(CommandLine.arguments.dropFirst())))
