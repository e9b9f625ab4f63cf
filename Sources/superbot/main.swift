import Glibc
import SuperBotDaemon

exit(Daemon.main(Array(CommandLine.arguments.dropFirst())))
