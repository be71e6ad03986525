System.Console.WriteLine("wt");
